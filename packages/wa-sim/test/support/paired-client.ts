import type { UserFacingSocketConfig } from '@whiskeysockets/baileys';
import type { Sim } from '../../src/index.js';
import { createTestClient, makeAuthDir, removeAuthDir, type TestClient } from './baileys-client.js';
import { startTrustedSim } from './trusted-sim.js';

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
export async function startPairedHarness(bot = '4915100000001', extra?: Partial<UserFacingSocketConfig>): Promise<PairedHarness> {
  const trusted = await startTrustedSim();
  const { sim } = trusted;
  const authDir = await makeAuthDir();
  const client = await createTestClient(sim, { authDir, ...(extra ? { extra } : {}) });
  await sim.scanQr(await client.nextQr(), { phone: bot });
  await client.waitOpen();
  const close = async () => {
    await client.end();
    await trusted.close();
    await removeAuthDir(authDir);
  };
  return { sim, client, bot, authDir, close, [Symbol.asyncDispose]: close };
}
