/**
 * A sticker pool member (a child process forked by sticker-pool.ts): one sticker engine
 * that runs one job at a time for the worker. It is the only place the worker loads sharp.
 */
import type { StickerEngine } from '@stickerbot/sticker';
import type { JobMessage, MemberCall, MemberMessage, MemberOptions, WireError } from './sticker-pool-protocol.js';

/** Ends this member and any ffmpeg it runs (it leads its own process group). */
function quit(): void {
  process.kill(0, 'SIGKILL');
}

// The worker died or closed the pool. Heard before the engine is loaded (about a second of
// CPU for sharp), so the members of a worker killed meanwhile do not load on for nothing
// beside the worker that replaces it.
process.on('disconnect', quit);
if (!process.connected) quit();

const { createStickerEngine, isStickerError } = await import('@stickerbot/sticker');
const options = JSON.parse(process.argv[2] ?? '{}') as MemberOptions;
const engine = createStickerEngine({ concurrency: 1, ...options });
const calls: { [K in MemberCall]: (...args: Parameters<StickerEngine[K]>) => Promise<unknown> } = {
  toSticker: (...args) => engine.toSticker(...args),
  retag: (...args) => engine.retag(...args),
  fromText: (...args) => engine.fromText(...args),
  toImage: (...args) => engine.toImage(...args),
  info: (...args) => engine.info(...args),
  fingerprint: (...args) => engine.fingerprint(...args),
  ffmpeg: () => engine.ffmpeg(),
};

function send(message: MemberMessage): void {
  if (process.connected) process.send?.(message);
}

function wireError(err: unknown): WireError {
  // Through JSON: details are facts for logs, and must not make the answer unsendable.
  if (isStickerError(err)) return { name: err.name, message: err.message, code: err.code, details: JSON.parse(JSON.stringify(err.details)) as Record<string, unknown> };
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}

async function run(job: JobMessage): Promise<void> {
  try {
    const call = calls[job.call] as (...args: unknown[]) => Promise<unknown>;
    send({ type: 'done', id: job.id, value: await call(...job.args) });
  } catch (err) {
    send({ type: 'failed', id: job.id, error: wireError(err) });
  }
}

process.on('message', (job: JobMessage) => void run(job));
// Importing the engine loaded sharp: the first job does not pay for it.
send({ type: 'ready' });
