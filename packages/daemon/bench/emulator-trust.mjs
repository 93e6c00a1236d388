// @ts-check
/**
 * `node --import ./packages/daemon/bench/emulator-trust.mjs scripts/run.mjs daemon`: the
 * production daemon (run.mjs, plain Node, no tsx) pointed at the loopback emulator by
 * `pnpm bench:sessions --real`. The daemon's Baileys (patched) verifies WhatsApp's noise
 * certificate chain, which the emulator cannot present; this preload replaces the trusted root
 * with the emulator's (`WA_SIM_NOISE_ROOT`, base64) under the same guards as wa-sim's
 * `trustEmulatorNoiseRoot`: `WA_SIM_TRUST_KEY=1`, `NODE_ENV` not `production`, a loopback
 * `STICKERBOT_WA_URL`. Plain JavaScript, so the daemon runs without a TypeScript loader.
 * Baileys resolves from packages/daemon, hence this file's place: the same module instance
 * as the daemon's bundle imports.
 */
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', '::1', 'localhost']);

/** @param {string} reason @returns {never} */
function refuse(reason) {
  process.stderr.write(`emulator-trust: ${reason}\n`);
  process.exit(1);
}

const env = process.env;
if (env.WA_SIM_TRUST_KEY !== '1') refuse('needs WA_SIM_TRUST_KEY=1');
if (env.NODE_ENV === 'production') refuse('refused with NODE_ENV=production');
let host = '';
try {
  host = new URL(env.STICKERBOT_WA_URL ?? '').hostname;
} catch {
  refuse(`STICKERBOT_WA_URL is not a URL: ${env.STICKERBOT_WA_URL ?? '(unset)'}`);
}
if (!LOOPBACK.has(host)) refuse(`refused for non-loopback STICKERBOT_WA_URL ${env.STICKERBOT_WA_URL ?? ''}`);
const root = Buffer.from(env.WA_SIM_NOISE_ROOT ?? '', 'base64');
if (root.length !== 32) refuse('WA_SIM_NOISE_ROOT must be the emulator root public key (32 bytes, base64)');
WA_CERT_DETAILS.PUBLIC_KEY = root;
