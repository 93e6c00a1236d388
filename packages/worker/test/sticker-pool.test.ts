import { isStickerError, readStickerMetadata } from '@stickerbot/sticker';
import { makeGif, makePng } from '@stickerbot/sticker/test-kit';
import { CONVERTER_MALLOC_ENV } from '@stickerbot/sticker/converter-env';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConverterCrashedError, createStickerPool, type StickerPool, type StickerPoolOptions } from '../src/media/sticker-pool.js';
import { alive, captureLog, engineEnvironment, waitFor } from '../src/test-kit/index.js';

/** A pool with every member started (their start is not what these tests time). */
async function startPool(overrides: Partial<StickerPoolOptions> = {}): Promise<StickerPool & AsyncDisposable> {
  const pool = createStickerPool({
    size: 2,
    jobTimeoutMs: 60_000,
    jobMemoryBytes: 0,
    engine: { maxInputBytes: 64 * 2 ** 20, ...engineEnvironment() },
    log: captureLog().log,
    ...overrides,
  });
  pool.warm();
  await waitFor(() => pool.stats().ready === pool.stats().members, 30_000);
  return Object.assign(pool, { [Symbol.asyncDispose]: () => pool.close() });
}

describe('sticker pool', { timeout: 90_000 }, () => {
  let png: Buffer;
  /** Decoding and encoding 100 GIF frames of 512×512 takes the engine seconds. */
  let slowGif: Buffer;
  beforeAll(async () => {
    // 100 frames of 100 ms: 99 frames to encode, hundreds of ms on a quiet machine.
    [png, slowGif] = await Promise.all([makePng(), makeGif(512, 512, 100, 100)]);
  }, 60_000);

  it('converts through its members with the engine interface, Buffers and typed errors intact', async () => {
    await using pool = await startPool();
    const sticker = await pool.toSticker(png, { pack: 'Pool', author: 'Me' });
    expect(Buffer.isBuffer(sticker.data)).toBe(true);
    expect(readStickerMetadata(sticker.data)).toMatchObject({ packName: 'Pool', publisher: 'Me' });
    expect((await pool.info(sticker.data)).width).toBe(512);
    expect((await pool.retag(sticker.data, { packName: 'Other' })).data.length).toBeGreaterThan(0);
    expect((await pool.toImage(sticker.data)).mimetype).toBe('image/png');
    const refused = await pool.toSticker(Buffer.from('hello')).catch((err: unknown) => err);
    expect(isStickerError(refused, 'UNSUPPORTED_FORMAT')).toBe(true);
  });

  it('runs at most `size` jobs at once and queues the rest in order', async () => {
    await using pool = await startPool({ size: 2 });
    let mostBusy = 0;
    let mostQueued = 0;
    const watch = setInterval(() => {
      mostBusy = Math.max(mostBusy, pool.stats().busy);
      mostQueued = Math.max(mostQueued, pool.stats().queued);
    }, 2);
    const done: number[] = [];
    const jobs = [0, 1, 2, 3].map((i) => pool.toSticker(i < 2 ? slowGif : png).then(() => done.push(i)));
    expect(pool.stats()).toMatchObject({ busy: 2, queued: 2 });
    await Promise.all(jobs);
    clearInterval(watch);
    expect(mostBusy).toBe(2);
    expect(mostQueued).toBe(2);
    expect(pool.stats()).toMatchObject({ members: 2, busy: 0, queued: 0 });
    // The two quick jobs waited for a member: they finished after the first slow one.
    expect(done.indexOf(2)).toBeGreaterThan(Math.min(done.indexOf(0), done.indexOf(1)));
  });

  it('kills a job past its time budget with TIMEOUT while another job completes, and replaces the member', async () => {
    // The GIF takes seconds to convert (more on a loaded machine); its budget is 0.25 s.
    await using pool = await startPool({ size: 2, jobTimeoutMs: 250 });
    const started = Date.now();
    let failedAfter = Infinity;
    const slow = pool.toSticker(slowGif).catch((err: unknown) => {
      failedAfter = Date.now() - started;
      return err;
    });
    const [slowPid] = pool.stats().busyPids;
    const quick = await pool.toSticker(png);
    expect(quick.data.length).toBeGreaterThan(0);
    const err = await slow;
    expect(isStickerError(err, 'TIMEOUT')).toBe(true);
    expect((err as Error).message).toMatch(/past its 0.25 s budget/);
    // Killed at its budget, not when the conversion would have ended.
    expect(failedAfter).toBeLessThan(1500);
    await waitFor(() => !alive(slowPid as number), 5000);
    await waitFor(() => pool.stats().ready === 2, 30_000);
    expect((await pool.toSticker(png)).data.length).toBeGreaterThan(0);
  });

  it('kills a job past its memory budget with TOO_MANY_PIXELS', async () => {
    // Every member holds more than 32 MiB once sharp is loaded: the first reading is over.
    await using pool = await startPool({ size: 1, jobMemoryBytes: 32 * 2 ** 20, memoryCheckMs: 5 });
    const err = await pool.toSticker(slowGif).catch((error: unknown) => error);
    expect(isStickerError(err, 'TOO_MANY_PIXELS')).toBe(true);
    expect((err as Error).message).toMatch(/more than its 32 MiB memory budget/);
    await waitFor(() => pool.stats().ready === 1, 30_000);
  });

  it('starts its members with the converter malloc settings, a setting of its environment winning', async () => {
    await using pool = await startPool({ size: 1, env: { ...process.env, MALLOC_ARENA_MAX: '3' } });
    const job = pool.toSticker(slowGif);
    const [pid] = pool.stats().busyPids;
    const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    await job;
    expect(environment).toEqual(
      expect.arrayContaining(['MALLOC_ARENA_MAX=3', ...Object.entries(CONVERTER_MALLOC_ENV).filter(([key]) => key !== 'MALLOC_ARENA_MAX').map(([key, value]) => `${key}=${value}`)]),
    );
  });

  it('fails the job of a member that crashes with ConverterCrashedError and starts a new member', async () => {
    await using pool = await startPool({ size: 1 });
    const job = pool.toSticker(slowGif).catch((err: unknown) => err);
    const [pid] = pool.stats().busyPids;
    process.kill(pid as number, 'SIGSEGV');
    const err = await job;
    expect(err).toBeInstanceOf(ConverterCrashedError);
    expect((err as ConverterCrashedError).details).toMatchObject({ pid, signal: 'SIGSEGV' });
    await waitFor(() => pool.stats().ready === 1, 30_000);
    expect((await pool.toSticker(png)).data.length).toBeGreaterThan(0);
  });

  it('aborts a running job by killing its member and a queued one before it starts', async () => {
    await using pool = await startPool({ size: 1 });
    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.toSticker(slowGif, { signal: running.signal }).catch((err: unknown) => err);
    const second = pool.toSticker(png, { signal: queued.signal }).catch((err: unknown) => err);
    const [pid] = pool.stats().busyPids;
    expect(pool.stats()).toMatchObject({ busy: 1, queued: 1 });
    queued.abort();
    expect(isStickerError(await second, 'ABORTED')).toBe(true);
    running.abort();
    expect(isStickerError(await first, 'ABORTED')).toBe(true);
    await waitFor(() => !alive(pid as number), 5000);
    await expect(pool.toSticker(png, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses jobs after close and ends its members', async () => {
    const pool = await startPool({ size: 2 });
    const jobs = [pool.toSticker(png), pool.toSticker(png)];
    const pids = pool.stats().busyPids;
    expect(pids).toHaveLength(2);
    await pool.close();
    // close() waited for the running jobs.
    for (const result of await Promise.all(jobs)) expect(result.data.length).toBeGreaterThan(0);
    expect(pool.stats().members).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    await expect(pool.toSticker(png)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('a member whose worker is gone ends at once, without loading the engine first', async () => {
    // As the pool forks them (sticker-pool.ts); detached, as a member ends its own process group.
    const member = () =>
      fork(new URL('../src/media/sticker-pool-member.ts', import.meta.url), ['{}'], {
        execArgv: ['--import', 'tsx', '--conditions=@stickerbot/source'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        detached: true,
      });
    const exitOf = (child: ChildProcess) => new Promise<number>((resolve) => child.once('exit', () => resolve(Date.now())));
    const orphan = member();
    const orphanExit = exitOf(orphan);
    let orphanReady = false;
    orphan.once('message', () => (orphanReady = true));
    // Its worker is killed: the channel closes while the member is still starting.
    orphan.disconnect();
    const loaded = member();
    const loadedAt = await new Promise<number>((resolve) => loaded.once('message', () => resolve(Date.now())));
    const loadedExit = exitOf(loaded);
    loaded.disconnect();
    await loadedExit;
    expect(orphanReady).toBe(false);
    // Gone before a member started with it had even loaded the engine.
    expect(await orphanExit).toBeLessThan(loadedAt);
  });
});
