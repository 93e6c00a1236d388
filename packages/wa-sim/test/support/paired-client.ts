import { pino } from 'pino';
import {
  restoreWhatsAppNoiseRoot,
  startSim,
  trustEmulatorNoiseRoot,
  useStrictSignatureVerification,
  type Sim,
} from '../../src/index.js';
import { createTestClient, makeAuthDir, removeAuthDir, type TestClient } from './baileys-client.js';

/** One emulator, one paired and open Baileys client, torn down together. */
export interface PairedHarness extends AsyncDisposable {
  readonly sim: Sim;
  readonly client: TestClient;
  readonly bot: string;
  readonly authDir: string;
  close(): Promise<void>;
}

/**
 * Starts an emulator, trusts its noise root (test-only, loopback), turns on real signature
 * checks in Baileys, and pairs a client by QR.
 */
export async function startPairedHarness(bot = '4915100000001'): Promise<PairedHarness> {
  const sim = await startSim({ logger: pino({ level: process.env.WA_SIM_LOG ?? 'silent' }) });
  process.env.WA_SIM_TRUST_KEY = '1';
  trustEmulatorNoiseRoot(sim.url, { iUnderstandThisDisablesWhatsAppServerAuth: true });
  const restoreVerify = useStrictSignatureVerification();
  const authDir = await makeAuthDir();
  const client = await createTestClient(sim, { authDir });
  await sim.scanQr(await client.nextQr(), { phone: bot });
  await client.waitOpen();
  const close = async () => {
    await client.end();
    await sim.close();
    await removeAuthDir(authDir);
    restoreVerify();
    restoreWhatsAppNoiseRoot();
  };
  return { sim, client, bot, authDir, close, [Symbol.asyncDispose]: close };
}
