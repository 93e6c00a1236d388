import { describe, expect, it } from 'vitest';
import { createJobPool } from './job-pool.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('job pool', () => {
  it('never runs more jobs than its concurrency and runs the rest in order', async () => {
    const pool = createJobPool(2);
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const jobs = gates.map((gate, i) => pool.run(async () => { started.push(i); await gate.promise; return i; }));
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(pool.stats()).toEqual({ running: 2, queued: 1 });
    gates[0]!.resolve();
    await jobs[0];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2]);
  });

  it('drops a queued job whose signal aborts, with ABORTED', async () => {
    const pool = createJobPool(1);
    const gate = deferred();
    const first = pool.run(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const second = pool.run(() => { ran = true; return Promise.resolve(); }, controller.signal);
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'ABORTED' });
    gate.resolve();
    await first;
    expect(ran).toBe(false);
  });

  it('waits for running jobs on close and refuses new ones with CLOSED', async () => {
    const pool = createJobPool(1);
    const gate = deferred();
    let finished = false;
    const job = pool.run(async () => { await gate.promise; finished = true; });
    const closing = pool.close();
    await expect(pool.run(() => Promise.resolve(1))).rejects.toMatchObject({ code: 'CLOSED' });
    gate.resolve();
    await closing;
    expect(finished).toBe(true);
    await job;
  });
});
