import { pino } from 'pino';
import { restoreWhatsAppNoiseRoot, startSim, trustEmulatorNoiseRoot, useStrictSignatureVerification, type Sim } from '../../src/index.js';

/** An emulator that this process's Baileys trusts, with real signature checks on; `close` undoes both. */
export interface TrustedSim {
  readonly sim: Sim;
  close(): Promise<void>;
}

/**
 * Starts an emulator, trusts its noise root (test-only, loopback) and turns on Baileys' real
 * signature verification: what every test of a real client against the emulator needs first.
 */
export async function startTrustedSim(): Promise<TrustedSim> {
  const sim = await startSim({ logger: pino({ level: process.env.WA_SIM_LOG ?? 'silent' }) });
  process.env.WA_SIM_TRUST_KEY = '1';
  trustEmulatorNoiseRoot(sim.url, { iUnderstandThisDisablesWhatsAppServerAuth: true });
  const restoreVerify = useStrictSignatureVerification();
  return {
    sim,
    close: async () => {
      await sim.close();
      restoreVerify();
      restoreWhatsAppNoiseRoot();
    },
  };
}
