import { StickerError } from './errors.js';

/** A bounded pool: at most `concurrency` jobs run at once, the rest wait in order. */
export interface JobPool {
  /** Runs `task` when a slot is free. Aborting while queued rejects with ABORTED; after close(), CLOSED. */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Refuses new jobs and resolves once every queued and running job has settled. */
  close(): Promise<void>;
  /** Jobs running and waiting, for tests and metrics. */
  stats(): { running: number; queued: number };
}

interface Waiter {
  start: () => void;
  cancel: (err: StickerError) => void;
}

/** Creates a job pool. */
export function createJobPool(concurrency: number): JobPool {
  const limit = Math.max(1, Math.floor(concurrency));
  const queue: Waiter[] = [];
  let running = 0;
  let closed = false;
  let drained: (() => void) | undefined;

  const next = (): void => {
    while (running < limit) {
      const waiter = queue.shift();
      if (waiter === undefined) break;
      running += 1;
      waiter.start();
    }
    if (running === 0 && queue.length === 0) drained?.();
  };

  return {
    run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (closed) return Promise.reject(new StickerError('CLOSED', 'the sticker engine is closed'));
      if (signal?.aborted) return Promise.reject(new StickerError('ABORTED', 'the conversion was aborted', { cause: signal.reason }));
      return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => {
          const index = queue.indexOf(waiter);
          if (index >= 0) {
            queue.splice(index, 1);
            reject(new StickerError('ABORTED', 'the conversion was aborted while queued', { cause: signal?.reason }));
            next();
          }
        };
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            task()
              .then(resolve, reject)
              .finally(() => {
                running -= 1;
                next();
              });
          },
          cancel: reject,
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        next();
      });
    },
    close(): Promise<void> {
      closed = true;
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const previous = drained;
        drained = () => {
          previous?.();
          resolve();
        };
      });
    },
    stats: () => ({ running, queued: queue.length }),
  };
}
