/**
 * The journal as the sessions see it: the SQLite journal answers synchronously, cluster
 * mode's journal on Redis Streams (cluster/redis-journal.ts) with promises. Callers keep the
 * synchronous path synchronous (a SQLite append completes inside the Baileys handler) and
 * await only what is a promise.
 */
import type { JournalEntry } from '@stickerbot/protocol';
import type { WAMessage } from '@whiskeysockets/baileys';
import type { JournalAppend } from '../storage/index.js';
import type { MaybePromise } from './maybe-promise.js';

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
