/**
 * Values that are there at once from SQLite and later from Redis (cluster mode): callers keep
 * the synchronous path synchronous and await only what is a promise.
 */

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Whether `value` is a promise (a thenable). */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Runs `next` on `value` now when it is a plain value, after it resolves when it is a promise. */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(value) ? value.then(next) : next(value);
}

/**
 * A queue of operations: each runs now when none is under way, after those under way
 * otherwise. One that returns a promise is under way until it settles, whatever the outcome
 * (its caller gets the rejection). Operations on a synchronous store stay synchronous; on an
 * asynchronous one they keep their order.
 */
export function createInOrder(): <T>(work: () => MaybePromise<T>) => MaybePromise<T> {
  let tail: Promise<unknown> | undefined;
  return (work) => {
    const result = tail ? tail.then(() => work()) : work();
    if (isPromise(result)) {
      const settled = result.then(
        () => undefined,
        () => undefined,
      );
      tail = settled;
      void settled.then(() => {
        if (tail === settled) tail = undefined;
      });
    }
    return result;
  };
}
