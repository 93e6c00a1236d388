/**
 * The worker's composition root (`pnpm worker`): reads the environment (and `.env`),
 * builds the worker, handles SIGINT/SIGTERM with a grace period, and exits.
 */
import { existsSync } from 'node:fs';
import { ConfigError, createLogger, routeConsoleToLogger } from '@stickerbot/runtime';
import { loadConfig } from './config.js';
import { createStickerPool } from './media/sticker-pool.js';
import { createWorker } from './worker.js';

// Files this process creates (the bot database beside the daemon's credentials) are private.
process.umask(0o077);
if (existsSync('.env')) process.loadEnvFile('.env');

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
}

const log = createLogger({ service: 'stickerbot-worker', level: config.logLevel, pretty: process.stdout.isTTY });
// What a library prints with console.* becomes a record too (see the runtime's route-console.ts).
routeConsoleToLogger(log);
// Conversions run in child processes, so this process never loads sharp. The engine reads
// no environment: FFMPEG_PATH and PATH come from the worker's config.
const stickers = createStickerPool({
  jobTimeoutMs: config.jobTimeoutMs,
  jobMemoryBytes: config.jobMemoryBytes,
  engine: { maxInputBytes: config.maxMediaBytes, ffmpegPath: config.ffmpegPath, searchPath: config.searchPath },
  // The converters need none of the bot's settings, least of all its bridge token.
  env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('STICKERBOT_'))),
  log,
});
// The converters start once the bridge is connected and the replay that follows is handled
// (or after 2 s without a daemon): loading sharp in them then neither delays the connection
// nor takes the CPU from a restarted worker's backlog, and the first sticker after that does
// not wait for them. A sticker job in the backlog starts a converter at once anyway.
let stopping = false;
let warmed = false;
/** How long after connecting the replay's first packet has surely arrived (loopback). */
const REPLAY_ARRIVES_MS = 250;
function warmAfterReplay(): void {
  clearTimeout(warmWithoutDaemon);
  if (warmed) return;
  setTimeout(() => void worker.bridge.idle().then(warmConverters), REPLAY_ARRIVES_MS).unref();
}
function warmConverters(): void {
  if (warmed || stopping) return;
  warmed = true;
  stickers.warm();
  stickers.ffmpeg().then(
    (ffmpeg) => log.info({ ffmpeg: { path: ffmpeg.path, version: ffmpeg.version, source: ffmpeg.source } }, `sticker engine runs ffmpeg ${ffmpeg.version}: ${ffmpeg.reason}`),
    (err: unknown) => log.warn({ err }, 'no usable ffmpeg: video stickers will fail'),
  );
}
const warmWithoutDaemon = setTimeout(warmConverters, 2000);
const worker = createWorker({ log, stickers, onConnect: warmAfterReplay }, config);
const graceMs = config.shutdownGraceMs;

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, graceMs }, 'shutting down');
  const forced = setTimeout(() => process.exit(1), graceMs + 5000);
  forced.unref();
  await worker.stop(graceMs);
  await Promise.race([stickers.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

worker.start();
process.send?.('ready');
