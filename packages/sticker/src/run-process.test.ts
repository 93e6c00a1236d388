import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateMemoryCap } from './memory-cap.js';
import { runProcess } from './run-process.js';

/** A child that writes `blocks` blocks of 256 KiB, block i filled with the byte i. */
const writer = (blocks: number): string[] => [
  '-e',
  `for (let i = 0; i < ${blocks}; i += 1) require('node:fs').writeSync(1, Buffer.alloc(262144, i));`,
];

describe('runProcess stdout through a socket', () => {
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

  it('kills a child that writes past maxStdoutBytes through the socket', async () => {
    await expect(
      runProcess(process.execPath, { args: writer(8), timeoutMs: 30_000, maxStdoutBytes: 1024 * 1024, stdoutSocketDir: dir, onStdout: () => undefined }),
    ).rejects.toMatchObject({ code: 'FFMPEG_FAILED' });
  });

  it('reports a command that cannot start when stdout is a socket', async () => {
    await expect(
      runProcess(join(dir, 'no-such-ffmpeg'), { args: [], timeoutMs: 30_000, maxStdoutBytes: 1024, stdoutSocketDir: dir, onStdout: () => undefined }),
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
});

describe('runProcess under a memory cap', () => {
  const cap = locateMemoryCap(1024 * 1024 * 1024, process.env.PATH);

  it.skipIf(cap === undefined)('reports a command prlimit cannot start as FFMPEG_FAILED naming the cap (skipped without util-linux prlimit)', async () => {
    await expect(runProcess('/nonexistent/ffmpeg', { args: [], timeoutMs: 30_000, maxStdoutBytes: 1024, memoryCap: cap })).rejects.toMatchObject({
      code: 'FFMPEG_FAILED',
      message: expect.stringContaining('under its memory cap') as unknown,
    });
  });
});

