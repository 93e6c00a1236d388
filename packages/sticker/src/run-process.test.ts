import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONVERTER_MALLOC_ENV } from './converter-env.js';
import { locateMemoryCap } from './memory-cap.js';
import { runProcess } from './run-process.js';
import { startSpawnHelper } from './spawn-helper.js';

/** A child that writes `blocks` blocks of 256 KiB, block i filled with the byte i. */
const writer = (blocks: number): string[] => [
  '-e',
  `for (let i = 0; i < ${blocks}; i += 1) require('node:fs').writeSync(1, Buffer.alloc(262144, i));`,
];

const helper = startSpawnHelper();
afterAll(() => helper?.close());

/** The parent pid of a running process, from /proc. */
function parentOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

describe.each([
  ['started by this process', undefined],
  ['started by the spawn helper', helper],
])('runProcess stdout through a socket, %s', (_label, spawnHelper) => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-process-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers every byte in order through one reused buffer, pausing and resuming, and leaves no socket file', async () => {
    const blocks = 24;
    const received = Buffer.alloc(blocks * 262144);
    let at = 0;
    const backing = new Set<ArrayBufferLike>();
    let paused = 0;
    const result = await runProcess(process.execPath, {
      args: writer(blocks),
      timeoutMs: 30_000,
      maxStdoutBytes: received.length,
      stdoutSocketDir: dir,
      spawnHelper,
      onStdout: (chunk, control) => {
        backing.add(chunk.buffer);
        chunk.copy(received, at);
        at += chunk.length;
        if (paused < 3) {
          paused += 1;
          control.pause();
          setTimeout(() => control.resume(), 20);
        }
      },
    });
    expect(result.exitCode).toBe(0);
    expect(at).toBe(received.length);
    for (let i = 0; i < blocks; i += 1) {
      expect(received.subarray(i * 262144, (i + 1) * 262144).every((byte) => byte === i)).toBe(true);
    }
    // One reused read buffer, not a new chunk per read (each of which faults in fresh pages).
    expect(backing.size).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('starts the child with the converter malloc settings (glibc reads them only at a process start)', async () => {
    const received: Buffer[] = [];
    const result = await runProcess(process.execPath, {
      args: ['-e', `process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_')))))`],
      timeoutMs: 30_000,
      maxStdoutBytes: 1024 * 1024,
      stdoutSocketDir: dir,
      spawnHelper,
      onStdout: (chunk) => void received.push(Buffer.from(chunk)),
    });
    expect(result.exitCode).toBe(0);
    // Ours, unless this test's environment sets one of them already (then that one wins).
    const ownSettings = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('MALLOC_')));
    expect(JSON.parse(Buffer.concat(received).toString('utf8'))).toEqual({ ...CONVERTER_MALLOC_ENV, ...ownSettings });
  });

  it('kills a child that writes past maxStdoutBytes through the socket', async () => {
    await expect(
      runProcess(process.execPath, { args: writer(8), timeoutMs: 30_000, maxStdoutBytes: 1024 * 1024, stdoutSocketDir: dir, spawnHelper, onStdout: () => undefined }),
    ).rejects.toMatchObject({ code: 'FFMPEG_FAILED' });
  });

  it('reports a command that cannot start when stdout is a socket', async () => {
    await expect(
      runProcess(join(dir, 'no-such-ffmpeg'), { args: [], timeoutMs: 30_000, maxStdoutBytes: 1024, stdoutSocketDir: dir, spawnHelper, onStdout: () => undefined }),
    ).rejects.toMatchObject({ code: 'FFMPEG_FAILED' });
  });

  it('falls back to a pipe, with the same bytes, where no socket can be made (a path longer than a socket address)', async () => {
    const deep = join(dir, 'x'.repeat(120));
    await mkdir(deep);
    const received: Buffer[] = [];
    const backing = new Set<ArrayBufferLike>();
    const result = await runProcess(process.execPath, {
      args: writer(4),
      timeoutMs: 30_000,
      maxStdoutBytes: 4 * 262144,
      stdoutSocketDir: deep,
      spawnHelper,
      onStdout: (chunk) => {
        backing.add(chunk.buffer);
        received.push(Buffer.from(chunk));
      },
    });
    expect(result.exitCode).toBe(0);
    const all = Buffer.concat(received);
    expect(all.length).toBe(4 * 262144);
    for (let i = 0; i < 4; i += 1) expect(all.subarray(i * 262144, (i + 1) * 262144).every((byte) => byte === i)).toBe(true);
    // A pipe read as a stream hands over a new chunk per read.
    expect(backing.size).toBeGreaterThan(1);
  });

  it('kills a child past its deadline, gone before it settles, and reports its exit code and stderr otherwise', async () => {
    const started = Date.now();
    // A deadline shorter than a fresh helper's start still names the killed child's pid.
    const fresh = spawnHelper === undefined ? undefined : startSpawnHelper();
    const quick = await runProcess(process.execPath, {
      args: ['-e', 'setInterval(() => {}, 1000)'],
      timeoutMs: 1,
      maxStdoutBytes: 1024,
      stdoutSocketDir: dir,
      spawnHelper: fresh,
      onStdout: () => undefined,
    }).then(
      () => ({ code: 'none', details: { pid: -1 } }),
      (err: unknown) => err as { code: string; details: { pid: number } },
    );
    fresh?.close();
    expect(quick).toMatchObject({ code: 'TIMEOUT' });
    expect(typeof quick.details.pid).toBe('number');
    expect(() => process.kill(quick.details.pid, 0)).toThrow();
    const timedOut = await runProcess(process.execPath, {
      args: ['-e', 'setInterval(() => {}, 1000)'],
      timeoutMs: 500,
      maxStdoutBytes: 1024,
      stdoutSocketDir: dir,
      spawnHelper,
      onStdout: () => undefined,
    }).catch((err: unknown) => err as { code: string; details: { pid: number } });
    expect(timedOut).toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(() => process.kill((timedOut as { details: { pid: number } }).details.pid, 0)).toThrow();
    const failed = await runProcess(process.execPath, {
      args: ['-e', 'process.stderr.write("broken input"); process.exit(3)'],
      timeoutMs: 30_000,
      maxStdoutBytes: 1024,
      stdoutSocketDir: dir,
      spawnHelper,
      onStdout: () => undefined,
    });
    expect(failed).toMatchObject({ exitCode: 3, stderr: 'broken input' });
  });
});

describe.skipIf(helper === undefined)('the spawn helper', () => {
  it('forks the child, not this process, and refuses runs once closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'run-process-test-'));
    try {
      let parent = 0;
      const result = await runProcess(process.execPath, {
        args: ['-e', 'process.stdout.write(String(process.ppid))'],
        timeoutMs: 30_000,
        maxStdoutBytes: 1024,
        stdoutSocketDir: dir,
        spawnHelper: helper,
        onStdout: (chunk) => {
          parent = Number(chunk.toString());
        },
      });
      expect(result.exitCode).toBe(0);
      expect(parent).not.toBe(process.pid);
      expect(parentOf(parent)).toBe(process.pid);
      const closed = startSpawnHelper()!;
      expect(closed.isAlive()).toBe(true);
      closed.close();
      expect(closed.isAlive()).toBe(false);
      // One killed from outside says so once its exit is seen, and its runs fail too.
      const killed = startSpawnHelper()!;
      process.kill(killed.pid, 'SIGKILL');
      for (let i = 0; i < 100 && killed.isAlive(); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(killed.isAlive()).toBe(false);
      await expect(
        runProcess(process.execPath, { args: ['-e', ''], timeoutMs: 30_000, maxStdoutBytes: 1024, stdoutSocketDir: dir, spawnHelper: killed, onStdout: () => undefined }),
      ).rejects.toMatchObject({ code: 'FFMPEG_FAILED' });
      await expect(
        runProcess(process.execPath, { args: ['-e', ''], timeoutMs: 30_000, maxStdoutBytes: 1024, stdoutSocketDir: dir, spawnHelper: closed, onStdout: () => undefined }),
      ).rejects.toMatchObject({ code: 'FFMPEG_FAILED' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('runProcess under a memory cap', () => {
  const cap = locateMemoryCap(1024 * 1024 * 1024, process.env.PATH);

  it.skipIf(cap === undefined)('reports a command prlimit cannot start as FFMPEG_FAILED naming the cap (skipped without util-linux prlimit)', async () => {
    await expect(runProcess('/nonexistent/ffmpeg', { args: [], timeoutMs: 30_000, maxStdoutBytes: 1024, memoryCap: cap })).rejects.toMatchObject({
      code: 'FFMPEG_FAILED',
      message: expect.stringContaining('under its memory cap') as unknown,
    });
  });

  it.skipIf(cap === undefined || helper === undefined)('reports the same through the spawn helper, with stdout on a socket (how video conversions run)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'run-process-test-'));
    try {
      await expect(
        runProcess('/nonexistent/ffmpeg', { args: [], timeoutMs: 30_000, maxStdoutBytes: 1024, memoryCap: cap, stdoutSocketDir: dir, spawnHelper: helper, onStdout: () => undefined }),
      ).rejects.toMatchObject({ code: 'FFMPEG_FAILED', message: expect.stringContaining('under its memory cap') as unknown });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

