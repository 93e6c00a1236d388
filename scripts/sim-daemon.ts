/**
 * The daemon for `pnpm dev --sim`: the same composition as packages/daemon/src/main.ts
 * (real Baileys, real storage, the bridge), plus what a Baileys socket needs to talk to the
 * loopback emulator besides `STICKERBOT_WA_URL`: HTTPS agents that trust the emulator's
 * per-run media CA (`WA_SIM_CA_FILE`, written by the emulator), for uploads and downloads.
 * main.ts has no variable for a CA file and never trusts the emulator (below), hence this
 * entry (development only).
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { createBaileysSocketFactory, createDaemon, createSocketCacheRegistry, loadConfig, processQrOutput, runDaemonProcess } from '@stickerbot/daemon';
import { createLogger } from '@stickerbot/runtime';
import { trustEmulatorNoiseRoot } from '@stickerbot/wa-sim';
import { Agent as UndiciAgent } from 'undici';

const caFile = process.env.WA_SIM_CA_FILE;
if (!caFile) {
  process.stderr.write('sim-daemon: WA_SIM_CA_FILE must name the emulator CA (pnpm dev --sim sets it)\n');
  process.exit(1);
}
const ca = readFileSync(caFile, 'utf8');
const config = loadConfig(process.env);
if (!config.waUrl) {
  process.stderr.write('sim-daemon: STICKERBOT_WA_URL must name the emulator (pnpm dev --sim sets it)\n');
  process.exit(1);
}
// Baileys (patched) really verifies WhatsApp's certificate chain, which the emulator cannot
// present: this development-only entry turns on wa-sim's guarded override, which refuses
// non-loopback URLs and NODE_ENV=production. The daemon's own main.ts never does this.
process.env.WA_SIM_TRUST_KEY = '1';
trustEmulatorNoiseRoot(config.waUrl, { iUnderstandThisDisablesWhatsAppServerAuth: true });
const logger = createLogger({ service: 'stickerbot-daemon', level: config.logLevel, pretty: process.stdout.isTTY });
const socketCaches = createSocketCacheRegistry();
const daemon = createDaemon(
  {
    logger,
    socketFactory: createBaileysSocketFactory({ caches: socketCaches }),
    socketCaches,
    qrOutput: processQrOutput(),
    socketOptions: {
      fetchAgent: new HttpsAgent({ ca }),
      // Baileys downloads media with fetch; undici's dispatcher is how fetch gets a CA.
      fetchOptions: { dispatcher: new UndiciAgent({ connect: { ca } }) },
    },
  },
  config,
);

await runDaemonProcess(daemon, logger);
