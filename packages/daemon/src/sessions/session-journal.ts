/**
 * The journal as the sessions see it: the SQLite journal answers synchronously, cluster
 * mode's journal on Redis Streams (cluster/redis-journal.ts) with promises. Callers keep the
 * synchronous path synchronous (a SQLite append completes inside the Baileys handler) and
 * await only what is a promise.
 */
import type { JournalEntry } from '@stickerbot/protocol';
import type { WAMessage } from '@whiskeysockets/baileys';
import type { JournalAppend } from '../storage/index.js';

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** What the sessions append to and read from (the SQLite `Journal` and the `RedisJournal` both fit). */
export interface SessionJournal {
  /** Appends one entry; durable once it returns (or resolves). */
  append(input: JournalAppend): MaybePromise<JournalEntry>;
  /** Appends a batch, all or none, in order (optional: callers fall back to `append`). */
  appendMany?(inputs: readonly JournalAppend[]): MaybePromise<JournalEntry[]>;
  /** The raw message journaled under this id of a session, while held. */
  findRawMessage(sessionId: string, messageId: string): MaybePromise<WAMessage | undefined>;
  /** Whether a raw message is journaled under this id of a session. */
  hasMessage(sessionId: string, messageId: string): MaybePromise<boolean>;
}

/** Whether `value` is a promise (a thenable). */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Runs `next` on `value` now when it is a plain value, after it resolves when it is a promise. */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(value) ? value.then(next) : next(value);
}
