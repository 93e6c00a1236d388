import { Agent as HttpsAgent } from 'node:https';
import { Agent as UndiciAgent } from 'undici';

/**
 * What a Baileys client needs to reach the emulator's media host. Pass `fetchAgent` to
 * `makeWASocket` (uploads) and `dispatcher` as `downloadMediaMessage(msg, 'buffer', { options: { dispatcher } })`
 * (downloads use fetch). Both trust only the given CA; nothing process-wide changes.
 */
export interface MediaTrust {
  /** PEM of the emulator's test CA. */
  readonly ca: string;
  readonly fetchAgent: HttpsAgent;
  readonly dispatcher: UndiciAgent;
  /** Closes both agents. */
  close(): Promise<void>;
}

/** Builds the per-socket agents from the CA PEM (from `GET /status` → `mediaCa`, or `WA_SIM_CA_FILE`). */
export function createMediaTrust(ca: string): MediaTrust {
  const fetchAgent = new HttpsAgent({ ca, keepAlive: false });
  const dispatcher = new UndiciAgent({ connect: { ca } });
  return {
    ca,
    fetchAgent,
    dispatcher,
    close: async () => {
      fetchAgent.destroy();
      await dispatcher.close();
    },
  };
}
