/**
 * The daemon's base memory (issue #16): a daemon with no session never loads Baileys (its
 * protobuf definitions, libsignal), the QR encoder or jose. Each is loaded at its first use.
 * Asserted on the modules the bundled daemon (`scripts/run.mjs daemon`, as production runs
 * it) has loaded, not on its RSS, which would be a flaky bound.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, repoRoot, until } from '../scripts/support/process-stack.js';
import { startProbedDaemon, type ProbedDaemon } from './support/probed-daemon.js';

const PROBE = join(repoRoot, 'test/support/loaded-modules.mjs');
/** Packages a daemon without a session must not load, by a path segment of their files. */
const LAZY = ['/@whiskeysockets/baileys/', '/libsignal/', '/protobufjs/', '/qrcode/', '/jose/'];

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Starts the bundled daemon with the probe; `loaded()` asks it for the files of its loaded modules. */
async function startDaemon(env: Record<string, string>): Promise<ProbedDaemon & { loaded: () => Promise<string[]> }> {
  const daemon = startProbedDaemon(PROBE, (dir) => ({ LOADED_MODULES_FILE: join(dir, 'loaded.txt'), ...env }));
  cleanups.push(() => daemon.cleanup());
  const list = join(daemon.dir, 'loaded.txt');
  await until(() => daemon.output().includes('"msg":"daemon running"'), 'the daemon to run', 60_000);
  const loaded = async (): Promise<string[]> => {
    rmSync(list, { force: true });
    daemon.child.kill('SIGUSR2');
    await until(() => existsSync(list), 'the module list', 10_000);
    const esm = existsSync(`${list}.esm`) ? readFileSync(`${list}.esm`, 'utf8') : '';
    return `${readFileSync(list, 'utf8')}${esm}`.split('\n').filter((line) => line !== '');
  };
  return { ...daemon, loaded };
}

const lazyLoaded = (files: string[]): string[] => LAZY.filter((segment) => files.some((file) => file.includes(segment)));

describe('the daemon with no session', () => {
  it('loads neither Baileys, libsignal, protobufjs, the QR encoder nor jose', async () => {
    const daemon = await startDaemon({ STICKERBOT_SESSIONS: '' });
    const files = await daemon.loaded();
    // The probe sees what was loaded: the SQLite driver and Socket.IO are.
    expect(files.some((file) => file.includes('/better-sqlite3/'))).toBe(true);
    expect(files.some((file) => file.includes('/socket.io/'))).toBe(true);
    expect(lazyLoaded(files)).toEqual([]);
    daemon.child.kill('SIGTERM');
    await exited(daemon.child);
    expect(daemon.child.exitCode).toBe(0);
  }, 90_000);

  it('loads Baileys once a session starts', async () => {
    // Nothing answers on port 9: the session keeps reconnecting, which is enough to make a socket.
    const daemon = await startDaemon({ STICKERBOT_SESSIONS: 'main', STICKERBOT_WA_URL: 'ws://127.0.0.1:9' });
    await until(() => daemon.output().includes('connecting to WhatsApp'), 'the session to connect', 30_000);
    const files = await daemon.loaded();
    expect(lazyLoaded(files)).toEqual(expect.arrayContaining(['/@whiskeysockets/baileys/', '/libsignal/', '/protobufjs/']));
    expect(lazyLoaded(files)).not.toContain('/jose/');
  }, 90_000);
});
