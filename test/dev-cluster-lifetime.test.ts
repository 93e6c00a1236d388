/**
 * `pnpm dev --cluster --sim` (issue 17): it starts a private redis-server, the emulator, two
 * daemons on two ports with their own data folders and daemon ids sharing the sessions
 * through one `STICKERBOT_REDIS_URL`, and two workers (one group); the two sessions link
 * and connect; ending it (Ctrl-C, or SIGKILL of the dev script) leaves no process, Redis
 * included. Without redis-server on PATH it refuses at once and says what to install.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { END_TIMEOUT_MS, START_TIMEOUT_MS, expectAllGone, findAll, killRuns, launch, type Run } from './support/dev-runs.js';
import { processTree } from './support/process-tree.js';
import { TSX_ARGS, until } from '../scripts/support/process-stack.js';

const ROLES = [/scripts\/dev\.ts/, /scripts\/dev-redis\.ts/, /redis-server/, /wa-sim\/src\/main\.ts/, /scripts\/sim-daemon\.ts/, /run\.mjs worker --watch/];

/** A process's environment variable, from /proc. */
function envOf(pid: number, name: string): string | undefined {
  const entry = readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .find((line) => line.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

/** Starts the dev script with `--cluster --sim` and waits until both workers are connected and both sessions online. */
async function startCluster(): Promise<Run> {
  const run = launch(process.execPath, [...TSX_ARGS, 'scripts/dev.ts', '--cluster', '--sim'], { NO_COLOR: '1' });
  const count = (pattern: RegExp) => run.output.filter((line) => pattern.test(line)).length;
  const failed = () => run.child.exitCode !== null || run.child.signalCode !== null;
  await until(
    () => failed() || (count(/^worker\d +│ .*connected to the daemon/) >= 2 && count(/^daemon\d +│ .*connected to WhatsApp/) >= 2),
    'both workers and both sessions',
    START_TIMEOUT_MS,
    100,
  );
  if (failed()) throw new Error(`pnpm dev --cluster ended on start:\n${run.output.slice(-40).join('\n')}`);
  run.tree = processTree(run.child.pid ?? 0);
  run.dataDir = /data in (\S+)/.exec(run.output.find((line) => line.includes('data in ')) ?? '')?.[1] ?? '';
  return run;
}

afterEach(killRuns, 30_000);

describe('pnpm dev --cluster --sim', () => {
  it('runs Redis, two daemons with their own ids, ports and folders on one Redis URL, two workers, and Ctrl-C ends every process', async () => {
    const dev = await startCluster();
    expect(findAll(dev, /redis-server/)).toHaveLength(1);
    const daemons = findAll(dev, /scripts\/sim-daemon\.ts/);
    expect(daemons).toHaveLength(2);
    expect(findAll(dev, /run\.mjs worker --watch/)).toHaveLength(2);
    const env = (name: string) => daemons.map((daemon) => envOf(daemon.pid, name));
    expect(new Set(env('STICKERBOT_DAEMON_ID')).size).toBe(2);
    expect(new Set(env('STICKERBOT_PORT')).size).toBe(2);
    expect(new Set(env('STICKERBOT_DATA_DIR')).size).toBe(2);
    const [redisUrl] = env('STICKERBOT_REDIS_URL');
    expect(redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(env('STICKERBOT_REDIS_URL')).toEqual([redisUrl, redisUrl]);
    // Redis keeps its AOF in the run's data folder.
    expect(envOf(findAll(dev, /scripts\/dev-redis\.ts/)[0]?.pid ?? 0, 'STICKERBOT_DEV_REDIS_DIR')).toBe(join(dev.dataDir, 'redis'));
    process.kill(-(dev.child.pid ?? 0), 'SIGINT');
    await expectAllGone(dev, ROLES);
  }, START_TIMEOUT_MS + END_TIMEOUT_MS + 20_000);

  it('SIGKILL of the dev script ends every process, redis-server included', async () => {
    const dev = await startCluster();
    dev.child.kill('SIGKILL');
    await expectAllGone(dev, ROLES);
  }, START_TIMEOUT_MS + END_TIMEOUT_MS + 20_000);

  it('refuses to start without redis-server on PATH, naming the package', async () => {
    // A PATH with node alone.
    const bin = mkdtempSync(join(tmpdir(), 'stickerbot-no-redis-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const run = launch(process.execPath, [...TSX_ARGS, 'scripts/dev.ts', '--cluster', '--sim'], { NO_COLOR: '1', PATH: bin });
      await until(() => run.child.exitCode !== null, 'the dev script to exit', 60_000, 100);
      expect(run.child.exitCode).toBe(1);
      expect(run.output.join('\n')).toContain('apt-get install redis-server');
      // Nothing was started: no emulator line.
      expect(run.output.join('\n')).not.toContain('emulator on');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  }, 70_000);
});
