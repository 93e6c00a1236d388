import { WA_CERT_DETAILS } from '@whiskeysockets/baileys';
import { SimProtocolError } from '../errors.js';
import { simNoiseRoot } from './noise-root.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', '::1', 'localhost']);
// The latch lives on the process-global object it guards, so there is one per Baileys instance.
const LATCH = Symbol.for('stickerbot.wa-sim.trust-latch');

interface Latched {
  [LATCH]?: { original: Buffer };
}

/** Options for {@link trustEmulatorNoiseRoot}; the flag exists so the call reads as what it does. */
export interface TrustOptions {
  readonly iUnderstandThisDisablesWhatsAppServerAuth: true;
}

const isLoopbackWsUrl = (url: string): boolean => {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') && LOOPBACK_HOSTS.has(parsed.hostname);
  } catch {
    return false;
  }
};

/**
 * Makes a correctly verifying Baileys accept the emulator's noise certificate chain by replacing
 * `WA_CERT_DETAILS.PUBLIC_KEY` with the emulator root. Process-wide, so it refuses unless the
 * environment says `WA_SIM_TRUST_KEY=1`, `NODE_ENV` is not `production` and the url is loopback.
 * Once applied it latches: {@link assertSafeWaUrl} rejects every non-loopback url until
 * {@link restoreWhatsAppNoiseRoot}.
 */
export function trustEmulatorNoiseRoot(url: string, options: TrustOptions): void {
  // The environment is read here on purpose: a config file alone must not be able to enable this.
  const env = process.env;
  if (options.iUnderstandThisDisablesWhatsAppServerAuth !== true) {
    throw new SimProtocolError('trust-refused', 'trust override needs the explicit opt-in flag');
  }
  if (env.WA_SIM_TRUST_KEY !== '1') throw new SimProtocolError('trust-refused', 'trust override needs WA_SIM_TRUST_KEY=1');
  if (env.NODE_ENV === 'production') throw new SimProtocolError('trust-refused', 'trust override refused in production');
  if (!isLoopbackWsUrl(url)) throw new SimProtocolError('trust-refused', `trust override refused for non-loopback url ${url}`);
  const details = WA_CERT_DETAILS as typeof WA_CERT_DETAILS & Latched;
  details[LATCH] ??= { original: Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY) };
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(simNoiseRoot().public);
}

/** Throws for any non-loopback url while the emulator root is trusted. Call before every `makeWASocket`. */
export function assertSafeWaUrl(url: string): void {
  const latched = (WA_CERT_DETAILS as Latched)[LATCH] !== undefined;
  if (latched && !isLoopbackWsUrl(url)) {
    throw new SimProtocolError('trust-refused', `emulator root is trusted in this process; refusing ${url}`);
  }
}

/** Puts WhatsApp's real noise root back and releases the latch. */
export function restoreWhatsAppNoiseRoot(): void {
  const details = WA_CERT_DETAILS as typeof WA_CERT_DETAILS & Latched;
  const latch = details[LATCH];
  if (!latch) return;
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(latch.original);
  delete details[LATCH];
}

/** True while the emulator root is trusted. */
export const isEmulatorRootTrusted = (): boolean => (WA_CERT_DETAILS as Latched)[LATCH] !== undefined;
