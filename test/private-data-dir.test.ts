/**
 * The data folder holds the WhatsApp credentials: another local user must not read any of
 * it. The daemon (`packages/daemon/src/main.ts`) and the worker run as child processes
 * started with umask 022 on a fresh folder; then user `nobody` tries to list and read every
 * folder and file in it. A folder loosened afterwards (as an older version left it) is
 * tightened by the next start, with a warning naming each path.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, killAll, repoRoot, until } from '../scripts/support/process-stack.js';

const run = promisify(execFile);
const SETPRIV = '/usr/bin/setpriv';
const isRoot = process.getuid?.() === 0;
// Reading as another user needs root (CI runs as root) and util-linux's setpriv.
const canSwitchUser = isRoot && existsSync(SETPRIV);

const children: ChildProcess[] = [];
// The folders above the data folder must be traversable by nobody, or the check proves nothing.
const root = mkdtempSync(join(tmpdir(), 'stickerbot-private-'));
chmodSync(root, 0o755);
const dataDir = join(root, 'data');

afterAll(async () => {
  await killAll(children);
  rmSync(root, { recursive: true, force: true });
}, 30_000);

interface Started {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  output: () => string;
}

/** Starts the daemon or the worker as pm2 does (scripts/run.mjs), with umask 022 as a shell of a typical operator would. */
function start(app: 'daemon' | 'worker', env: Record<string, string>): Started {
  const node = [process.execPath, join(repoRoot, 'scripts/run.mjs'), app].map((arg) => `'${arg}'`).join(' ');
  const child = spawn('/bin/sh', ['-c', `umask 022 && exec ${node}`], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', STICKERBOT_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  let text = '';
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { child, lines, output: () => text };
}

async function startDaemon(): Promise<Started & { port: number }> {
  const daemon = start('daemon', { STICKERBOT_PORT: '0', STICKERBOT_SESSIONS: '' });
  await until(() => daemon.lines.some((line) => line.msg === 'bridge listening'), 'the daemon to listen', 60_000);
  const port = daemon.lines.find((line) => line.msg === 'bridge listening')?.port as number;
  return { ...daemon, port };
}

async function stop(started: Started): Promise<void> {
  started.child.kill('SIGTERM');
  await exited(started.child);
}

/** Every folder and file under `dir`, `dir` included. */
function everything(dir: string): string[] {
  return [dir, ...readdirSync(dir, { recursive: true }).map((name) => join(dir, String(name)))];
}

/** Whether user `nobody` can list (a folder) or read (a file) `path`. */
async function nobodyCanRead(path: string): Promise<boolean> {
  const command = statSync(path).isDirectory() ? ['ls', '-A', path] : ['head', '-c', '1', path];
  try {
    await run(SETPRIV, ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...command]);
    return true;
  } catch {
    return false;
  }
}

async function readableByNobody(dir: string): Promise<string[]> {
  const readable: string[] = [];
  for (const path of everything(dir)) if (await nobodyCanRead(path)) readable.push(path);
  return readable;
}

function looseModes(dir: string): string[] {
  return everything(dir).flatMap((path) => {
    const stat = statSync(path);
    const expected = stat.isDirectory() ? 0o700 : 0o600;
    return (stat.mode & 0o777) === expected ? [] : [`${path} ${(stat.mode & 0o777).toString(8)}`];
  });
}

describe.skipIf(!canSwitchUser)('the data folder is private (needs root and setpriv to read as user nobody)', () => {
  it('nobody can read anything the daemon and the worker write into a fresh data folder under umask 022', async () => {
    // The check itself works: nobody reads a world-readable file beside the data folder.
    const control = join(root, 'control');
    writeFileSync(control, 'x', { mode: 0o644 });
    expect(await nobodyCanRead(control)).toBe(true);

    const daemon = await startDaemon();
    const worker = start('worker', { STICKERBOT_BRIDGE_URL: `http://127.0.0.1:${daemon.port}` });
    await until(() => worker.output().includes('connected to the daemon'), 'the worker to connect', 60_000);
    const files = readdirSync(dataDir);
    for (const name of ['daemon.sqlite', 'daemon.sqlite-wal', 'daemon.sqlite-shm', 'token', 'worker.sqlite', 'worker.sqlite-wal', 'worker.sqlite-shm']) {
      expect(files).toContain(name);
    }
    expect(looseModes(dataDir)).toEqual([]);
    expect(await readableByNobody(dataDir)).toEqual([]);
    await stop(worker);
    await stop(daemon);
  }, 120_000);

  it('tightens a data folder left readable by other users at start, with a warning naming each path and its old mode', async () => {
    // As an older version (or pm2, for its logs) left it.
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    writeFileSync(join(dataDir, 'logs', 'daemon.out.log'), '');
    for (const path of everything(dataDir)) chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
    expect((await readableByNobody(dataDir)).length).toBeGreaterThan(4);

    const daemon = await startDaemon();
    const warned = daemon.lines.filter((line) => line.msg === 'other users could read this in the data folder; its mode is tightened');
    expect(warned).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: dataDir, mode: '755', level: 40 }),
        expect.objectContaining({ path: join(dataDir, 'daemon.sqlite'), mode: '644' }),
        expect.objectContaining({ path: join(dataDir, 'token'), mode: '644' }),
        expect.objectContaining({ path: join(dataDir, 'logs', 'daemon.out.log'), mode: '644' }),
      ]),
    );
    expect(looseModes(dataDir)).toEqual([]);
    expect(await readableByNobody(dataDir)).toEqual([]);
    await stop(daemon);
  }, 120_000);
});
