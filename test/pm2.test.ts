/**
 * Proof 3 (issue 7): the pm2 ecosystem, run by the repository's own pm2 (`pnpm exec pm2`)
 * with a temporary PM2_HOME: both apps come online, and reloading or restarting the worker
 * through pm2 brings it back without touching the daemon (same pid, same uptime, no restart).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, until } from '../scripts/support/process-stack.js';
import { freePort } from '../scripts/support/free-port.js';

const run = promisify(execFile);

interface Pm2Process {
  name: string;
  pid: number;
  pm2_env: { status: string; restart_time: number; pm_uptime: number; unstable_restarts: number };
}

const pm2Home = mkdtempSync(join(tmpdir(), 'stickerbot-pm2-home-'));
const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-pm2-data-'));
let port = 0;


async function pm2(...args: string[]): Promise<string> {
  const { stdout } = await run('pnpm', ['exec', 'pm2', ...args], {
    cwd: repoRoot,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PM2_HOME: pm2Home,
      STICKERBOT_DATA_DIR: dataDir,
      STICKERBOT_PORT: String(port),
      STICKERBOT_BRIDGE_URL: `http://127.0.0.1:${port}`,
      // No WhatsApp session: this test is about process management, not WhatsApp.
      STICKERBOT_SESSIONS: '',
      LOG_LEVEL: 'info',
    },
  });
  return stdout;
}

async function list(): Promise<Map<string, Pm2Process>> {
  const out = await pm2('jlist');
  const processes = JSON.parse(out.slice(out.indexOf('['))) as Pm2Process[];
  return new Map(processes.map((p) => [p.name, p]));
}

async function waitFor(check: (apps: Map<string, Pm2Process>) => boolean, what: string): Promise<Map<string, Pm2Process>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const apps = await list();
    if (check(apps)) return apps;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify([...apps.values()].map((a) => [a.name, a.pid, a.pm2_env.status]))}\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function workerLog(): string {
  const file = join(dataDir, 'logs', 'worker.out.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function logs(): string {
  return ['daemon.out.log', 'daemon.err.log', 'worker.out.log', 'worker.err.log']
    .map((name) => join(dataDir, 'logs', name))
    .filter((file) => existsSync(file))
    .map((file) => `--- ${file}\n${readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

const connections = () => workerLog().split('\n').filter((line) => line.includes('connected to the daemon')).length;
const online = (app: Pm2Process | undefined) => app?.pm2_env.status === 'online';

beforeAll(async () => {
  port = await freePort();
}, 30_000);

afterAll(async () => {
  await pm2('delete', 'all').catch(() => '');
  await pm2('kill').catch(() => '');
  rmSync(pm2Home, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('pm2 ecosystem', () => {
  it(
    'reloads and restarts the worker through pm2 without touching the daemon',
    async () => {
      await pm2('start', 'ecosystem.config.cjs');
      const started = await waitFor((apps) => online(apps.get('stickerbot-daemon')) && online(apps.get('stickerbot-worker')), 'both apps online');
      const daemon = started.get('stickerbot-daemon');
      const firstWorker = started.get('stickerbot-worker');
      const health = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(health.status).toBe(200);
      await until(() => connections() >= 1, 'the worker to connect to the daemon', 60_000, 200);

      await pm2('reload', 'stickerbot-worker');
      await until(() => connections() >= 2, 'the reloaded worker to connect again', 60_000, 200);
      await pm2('restart', 'stickerbot-worker');
      await until(() => connections() >= 3, 'the restarted worker to connect again', 60_000, 200);

      const after = await waitFor((apps) => online(apps.get('stickerbot-worker')), 'the worker online again');
      const daemonAfter = after.get('stickerbot-daemon');
      const workerAfter = after.get('stickerbot-worker');
      expect(daemonAfter?.pid).toBe(daemon?.pid);
      expect(daemonAfter?.pm2_env.pm_uptime).toBe(daemon?.pm2_env.pm_uptime);
      expect(daemonAfter?.pm2_env.restart_time).toBe(0);
      expect(online(daemonAfter)).toBe(true);
      expect(workerAfter?.pid).not.toBe(firstWorker?.pid);
      expect(workerAfter?.pm2_env.restart_time).toBe(2);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      // The daemon log shows one start only.
      const daemonLog = readFileSync(join(dataDir, 'logs', 'daemon.out.log'), 'utf8');
      expect(daemonLog.split('\n').filter((line) => line.includes('daemon running'))).toHaveLength(1);
      // pm2's daemon writes the logs with its own umask: they stay private to this user anyway.
      const mode = (file: string) => (statSync(join(dataDir, file)).mode & 0o777).toString(8);
      const logFiles = ['logs', 'logs/daemon.out.log', 'logs/daemon.err.log', 'logs/worker.out.log', 'logs/worker.err.log'];
      expect(logFiles.map((file) => `${file} ${mode(file)}`)).toEqual([
        'logs 700',
        'logs/daemon.out.log 600',
        'logs/daemon.err.log 600',
        'logs/worker.out.log 600',
        'logs/worker.err.log 600',
      ]);

      await pm2('delete', 'all');
      const gone = await list();
      expect(gone.size).toBe(0);
    },
    150_000,
  );
});
