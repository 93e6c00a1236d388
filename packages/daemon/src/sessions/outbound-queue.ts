/**
 * One session's outbound queue (DESIGN §4): every `message:send` is persisted in the
 * outbox first, then sent in order with pacing (a minimum gap plus jitter per chat and
 * per session, so a burst from the bot does not look like spam to WhatsApp), through the
 * session's circuit breaker and the 30 s send timeout. A reply to a recent message of a
 * user in that chat skips the spacing while the chat's and the session's reply budgets
 * last (reply-budget.ts; the policy and its reasons are in the daemon README, "Pacing").
 * A daemon restart resumes the outbox. Each command id is sent under a WhatsApp message id
 * derived from it, so a retry after an unanswered attempt reuses the same id (receivers
 * show a message id once) instead of creating a second message.
 *
 * Whether a send may run at all (a repeated id, other arguments) is decided before it gets
 * here, by the command executor; a send of an id that is queued already joins that item.
 * What only the queue can do is record the outcome: `complete` removes the item and records
 * it in one transaction. A crash between WhatsApp's answer and a separate record would
 * leave the item queued and unrecorded, and a send resumed after a restart, or one whose
 * caller stopped waiting, has nobody else to record it.
 *
 * In cluster mode a send is fenced: right before it goes to the socket (no await between
 * the check and `sendMessage`) the queue asks whether this daemon still holds the session's
 * lease at the epoch the session was started with. Baileys writes the Signal keys of a send
 * only after the message left, so the auth store's fenced writes come too late to stop it:
 * this check is what keeps a daemon that lost the session from sending. A refused send, and
 * every send still queued when the session is handed over, fails with a retryable
 * `SESSION_NOT_CONNECTED` and leaves the outbox unrecorded, so the worker's retry with the
 * same command id acts at the new owner.
 */
import { createHash } from 'node:crypto';
import {
  StickerbotError,
  fromWireError,
  type OutgoingContent,
  type Result,
  type WorkerCommandArgs,
  type WorkerCommandResult,
} from '@stickerbot/protocol';
import type { AnyMessageContent, WAMessage, WAMessageKey } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { CircuitBreaker } from './circuit-breaker.js';
import { normalizeJid } from './message-mapper.js';
import { DEFAULT_OP_TIMEOUTS, withTimeout, type OpTimeouts } from './op-timeout.js';
import type { OutboxItem, OutboxStore } from '../storage/index.js';
import { isPromise } from './maybe-promise.js';
import type { SessionJournal } from './session-journal.js';
import { createReplyBudget, type ReplyBudgetOptions } from './reply-budget.js';
import { toSessionError } from './wa-errors.js';
import type { WaSocket } from './wa-socket.js';

/**
 * Pacing of sends, in ms: each gap plus a uniform random jitter up to the given bound; and
 * the budget of replies that skip the gaps.
 */
export interface PacingOptions extends ReplyBudgetOptions {
  /** Minimum gap between two sends of the session (default 250 ms). */
  sessionGapMs: number;
  /** Extra random gap per session send, up to (default 250 ms). */
  sessionJitterMs: number;
  /** Minimum gap between two sends to the same chat (default 1 s). */
  chatGapMs: number;
  /** Extra random gap per chat send, up to (default 500 ms). */
  chatJitterMs: number;
  /**
   * How old (by WhatsApp's timestamp) a user's message may be for an answer to it to count
   * as a reply (default 120 s); older ones, such as an offline backlog, are paced.
   */
  replyWindowMs: number;
}

/** Default pacing. */
export const DEFAULT_PACING: Readonly<PacingOptions> = Object.freeze({
  sessionGapMs: 250,
  sessionJitterMs: 250,
  chatGapMs: 1_000,
  chatJitterMs: 500,
  replyWindowMs: 120_000,
  replyBurst: 5,
  replyRefillPerSecond: 0.5,
  sessionReplyBurst: 10,
  sessionReplyRefillPerSecond: 2,
});

type SendArgs = WorkerCommandArgs<'message:send'>;
type SendResult = WorkerCommandResult<'message:send'>;

/** Collaborators of {@link createOutboundQueue}. */
export interface OutboundQueueDeps {
  sessionId: string;
  outbox: OutboxStore;
  journal: Pick<SessionJournal, 'findRawMessage' | 'hasMessage'>;
  /** The session's socket while it is connected. */
  socket: () => WaSocket | undefined;
  breaker: CircuitBreaker;
  /** Hands a sent message id to the deaf-connection watchdog. */
  trackSent: (messageId: string) => void;
  /**
   * Cluster mode: whether this daemon still holds the session's lease at the epoch the
   * session was started with (by its local deadline). Asked right before every send; false
   * refuses the send and hands every queued send over. Absent (one host): always true.
   */
  leaseHeld?: () => boolean;
  logger: Logger;
  pacing?: Partial<PacingOptions>;
  timeouts?: Partial<OpTimeouts>;
  /** Attempts before a send is given up and recorded as failed (default 5). */
  maxAttempts?: number;
  /** How long a caller awaits its queued send before `TIMEOUT` (the send stays queued; default 120 s). */
  waitMs?: number;
  /** Most sends queued for the session; more are refused with `RATE_LIMITED` (default 1000). */
  maxQueued?: number;
  now?: () => number;
  random?: () => number;
}

/** A session's outbound queue. */
export interface OutboundQueue {
  /**
   * Queues a send (or joins the queued one of the same id: the command executor refused a
   * repeat with other arguments before it got here) and resolves with WhatsApp's answer.
   * `argsHash` (the executor's hash of `args`) is stored with the item and recorded with
   * its outcome.
   */
  send(args: SendArgs, argsHash: string): Promise<SendResult>;
  /** Resumes sending (the session is connected again). */
  resume(): void;
  /** Fails and records every queued send of the session (e.g. after a logout). */
  abandonAll(reason: string): number;
  /**
   * The session moved to another daemon (cluster mode): every queued send fails with a
   * retryable `SESSION_NOT_CONNECTED` and leaves the outbox without a recorded outcome, so
   * the worker's retry with the same command id is sent by the new owner. Returns how many.
   */
  handOver(reason: string): number;
  /** Stops sending; queued items stay persisted for the next start. Waiters get `SHUTTING_DOWN`. */
  close(): void;
  /** Items queued for this session. */
  readonly size: number;
}

interface Waiter {
  promise: Promise<SendResult>;
  resolve: (result: SendResult) => void;
  reject: (error: StickerbotError) => void;
  timers: Set<NodeJS.Timeout>;
}

/** The WhatsApp message id a command id is sent under (Baileys' `3EB0` + 18 hex format). */
export function messageIdFor(sessionId: string, commandId: string): string {
  return `3EB0${createHash('sha256').update(`${sessionId}\0${commandId}`).digest('hex').slice(0, 18).toUpperCase()}`;
}

function bytes(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Protocol content → Baileys content. */
function toBaileysContent(content: OutgoingContent, chat: string, target: WAMessage | undefined): AnyMessageContent {
  switch (content.type) {
    case 'text':
      return content.mentions ? { text: content.text, mentions: content.mentions } : { text: content.text };
    case 'image':
      return { image: bytes(content.data), mimetype: content.mimetype ?? 'image/jpeg', ...(content.caption === undefined ? {} : { caption: content.caption }) };
    case 'video':
      return {
        video: bytes(content.data),
        mimetype: content.mimetype ?? 'video/mp4',
        ...(content.caption === undefined ? {} : { caption: content.caption }),
        ...(content.gifPlayback ? { gifPlayback: true } : {}),
      };
    case 'sticker':
      return { sticker: bytes(content.data), isAnimated: content.animated ?? false };
    case 'reaction': {
      const key: WAMessageKey = target?.key ?? { remoteJid: chat, id: content.messageId, fromMe: content.fromMe ?? false };
      if (content.participant) key.participant = content.participant;
      if (content.fromMe !== undefined) key.fromMe = content.fromMe;
      return { react: { text: content.emoji, key } };
    }
  }
}

function timestampMs(message: WAMessage | undefined, fallback: number): number {
  const ts = message?.messageTimestamp;
  const seconds = typeof ts === 'number' ? ts : typeof ts === 'object' && ts !== null ? Number(ts.toString()) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : fallback;
}

/** Creates a session's outbound queue; call {@link OutboundQueue.resume} once the session is connected. */
export function createOutboundQueue(deps: OutboundQueueDeps): OutboundQueue {
  const { sessionId, outbox, logger: log } = deps;
  const pacing: PacingOptions = { ...DEFAULT_PACING, ...deps.pacing };
  const timeouts: OpTimeouts = { ...DEFAULT_OP_TIMEOUTS, ...deps.timeouts };
  const maxAttempts = deps.maxAttempts ?? 5;
  const waitMs = deps.waitMs ?? 120_000;
  const maxQueued = deps.maxQueued ?? 1_000;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;

  const waiters = new Map<string, Waiter>();
  const retryAt = new Map<string, number>();
  const chatNextAt = new Map<string, number>();
  let sessionNextAt = 0;
  const replyBudget = createReplyBudget(pacing);
  /** Per queued command id: the timestamp of the user's message it answers, or `null` when it answers none. */
  const answers = new Map<string, number | null>();
  let running = false;
  let closed = false;
  let wake: (() => void) | undefined;
  /**
   * The session's queued items in memory: read from the outbox once (after a restart), then
   * kept in step with it, so that a burst of media sends does not re-read every queued
   * payload from SQLite for each send. The outbox stays the durable copy.
   */
  let memory: OutboxItem[] | undefined;
  const queuedItems = (): OutboxItem[] => (memory ??= outbox.pending(sessionId));

  function waiterFor(commandId: string): Waiter {
    const existing = waiters.get(commandId);
    if (existing) return existing;
    let resolve!: (result: SendResult) => void;
    let reject!: (error: StickerbotError) => void;
    const promise = new Promise<SendResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const waiter: Waiter = { promise, resolve, reject, timers: new Set() };
    waiters.set(commandId, waiter);
    return waiter;
  }

  /** One caller's view: the shared promise, bounded by that caller's own deadline. */
  function await_(commandId: string): Promise<SendResult> {
    const waiter = waiterFor(commandId);
    return new Promise<SendResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter.timers.delete(timer);
        reject(new StickerbotError('TIMEOUT', `send ${commandId} is still queued after ${waitMs / 1000} s; it stays queued and the same command id returns its outcome`));
      }, waitMs);
      waiter.timers.add(timer);
      waiter.promise.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  function settle(commandId: string, outcome: Result<SendResult>): void {
    retryAt.delete(commandId);
    answers.delete(commandId);
    const waiter = waiters.get(commandId);
    if (!waiter) return;
    waiters.delete(commandId);
    for (const timer of waiter.timers) clearTimeout(timer);
    if (outcome.ok) waiter.resolve(outcome.result);
    else waiter.reject(fromWireError(outcome.error));
  }

  function complete(item: OutboxItem, outcome: Result<SendResult>): void {
    const { commandId } = item;
    try {
      outbox.complete(commandId, { id: commandId, op: 'message:send', sessionId, argsHash: item.argsHash, result: outcome });
      if (memory) memory = memory.filter((queued) => queued.commandId !== commandId);
    } catch (err) {
      log.error({ err, commandId }, 'could not record the outcome of a send');
    }
    settle(commandId, outcome);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        if (wake === done) wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  function answerOf(item: OutboxItem, raw: WAMessage | undefined): number | null {
    const remoteJid = raw?.key.remoteJid;
    if (raw && !raw.key.fromMe && remoteJid && normalizeJid(remoteJid) === item.chat) {
      const ts = timestampMs(raw, Number.NaN);
      if (Number.isFinite(ts)) return ts;
    }
    return null;
  }

  /**
   * Finds, for each item not looked at yet, when the user's message it answers was sent: the
   * one it quotes or reacts to, if the journal has it as an incoming message of the same chat.
   * Decided from the journal, not from the worker's word, so that no caller can make a bulk
   * send look like replies. Synchronous over SQLite; a promise over the Redis journal.
   */
  function lookUpAnswers(items: readonly OutboxItem[]): Promise<unknown> | undefined {
    const lookups: Promise<unknown>[] = [];
    for (const item of items) {
      if (answers.has(item.commandId)) continue;
      const { content, quotedId } = item.args;
      const target = content.type === 'reaction' ? content.messageId : quotedId;
      const unreadable = (err: unknown) => {
        log.warn({ err, commandId: item.commandId }, 'could not read the message a send answers; pacing it as unsolicited');
        answers.set(item.commandId, null);
      };
      try {
        const raw = target === undefined ? undefined : deps.journal.findRawMessage(sessionId, target);
        if (isPromise(raw)) lookups.push(raw.then((found) => answers.set(item.commandId, answerOf(item, found)), unreadable));
        else answers.set(item.commandId, answerOf(item, raw));
      } catch (err) {
        unreadable(err);
      }
    }
    return lookups.length > 0 ? Promise.all(lookups) : undefined;
  }

  /** When the user's message this send answers was sent (see {@link lookUpAnswers}), or `null`. */
  function answeredAt(item: OutboxItem): number | null {
    return answers.get(item.commandId) ?? null;
  }

  /** Whether `item` is a reply to a recent user message that the reply budget lets go out at once. */
  function budgeted(item: OutboxItem, at: number): boolean {
    const answered = answeredAt(item);
    return answered !== null && at - answered <= pacing.replyWindowMs && replyBudget.available(item.chat, at);
  }

  /**
   * The next item to send and when it may go: the oldest item of each chat, earliest ready
   * first; a budgeted reply is ready at once (or when its retry is due).
   */
  function pick(items: readonly OutboxItem[]): { item: OutboxItem; readyAt: number; reply: boolean } | undefined {
    const seenChats = new Set<string>();
    const at = now();
    let best: { item: OutboxItem; readyAt: number; reply: boolean } | undefined;
    for (const item of items) {
      if (seenChats.has(item.chat)) continue;
      seenChats.add(item.chat);
      const retry = retryAt.get(item.commandId) ?? 0;
      const reply = budgeted(item, at);
      const readyAt = reply ? retry : Math.max(sessionNextAt, chatNextAt.get(item.chat) ?? 0, retry);
      if (!best || readyAt < best.readyAt) best = { item, readyAt, reply };
    }
    return best;
  }

  /** A journaled message by id: at once over SQLite, awaited over Redis. */
  async function rawMessage(messageId: string | undefined): Promise<WAMessage | undefined> {
    return messageId === undefined ? undefined : deps.journal.findRawMessage(sessionId, messageId);
  }

  /**
   * Sends one item. Returns false when the send was refused because the session moved to
   * another daemon (everything queued is handed over then, and the pump stops).
   */
  async function attempt(item: OutboxItem, socket: WaSocket, reply: boolean): Promise<boolean> {
    const { args } = item;
    if (reply) replyBudget.spend(item.chat, now());
    outbox.markAttempt(item.commandId);
    item.attempts += 1;
    const attempts = item.attempts;
    const messageId = messageIdFor(sessionId, item.commandId);
    try {
      const quoted = await rawMessage(args.quotedId);
      const target = args.content.type === 'reaction' ? await rawMessage(args.content.messageId) : undefined;
      const content = toBaileysContent(args.content, args.chat, target);
      // The fence: nothing is awaited between this check and `sendMessage` (the breaker and
      // the deadline call it synchronously), so a send goes out only while the lease holds.
      if (deps.leaseHeld && !deps.leaseHeld()) {
        const handed = handOver('this daemon no longer holds the session lease it was started with');
        log.warn({ commandId: item.commandId, handedOver: handed }, 'send refused: the session moved to another daemon');
        return false;
      }
      const sent = await deps.breaker.run(() =>
        withTimeout('send', timeouts.sendMs, () => socket.sendMessage(args.chat, content, { messageId, ...(quoted ? { quoted } : {}) })).catch(
          (error: unknown) => {
            throw toSessionError('send', error);
          },
        ),
      );
      const id = sent?.key.id ?? messageId;
      deps.trackSent(id);
      log.debug({ commandId: item.commandId, chat: args.chat, messageId: id, attempts }, 'sent');
      complete(item, { ok: true, result: { messageId: id, timestamp: timestampMs(sent, now()) } });
      return true;
    } catch (thrown) {
      const error = toSessionError('send', thrown);
      if (error.retryable && attempts < maxAttempts) {
        const delay = Math.min(60_000, 2_000 * 2 ** (attempts - 1));
        retryAt.set(item.commandId, now() + delay);
        log.warn({ commandId: item.commandId, attempts, delayMs: delay, code: error.code, reason: error.message }, 'send failed; will retry');
        return true;
      }
      log.warn({ commandId: item.commandId, attempts, code: error.code, reason: error.message }, 'send failed; giving up');
      const message = attempts > 1 ? `${error.message} (gave up after ${attempts} attempts)` : error.message;
      complete(item, { ok: false, error: { code: error.code, message, retryable: false } });
      return true;
    } finally {
      sessionNextAt = now() + pacing.sessionGapMs + Math.floor(random() * pacing.sessionJitterMs);
      chatNextAt.set(args.chat, now() + pacing.chatGapMs + Math.floor(random() * pacing.chatJitterMs));
    }
  }

  async function pump(): Promise<void> {
    if (running) return;
    running = true;
    try {
      for (;;) {
        if (closed) return;
        const socket = deps.socket();
        if (!socket) return;
        const items = queuedItems();
        const lookups = lookUpAnswers(items);
        if (lookups) {
          await lookups;
          continue;
        }
        const next = pick(items);
        if (!next) return;
        if (deps.breaker.state === 'open') {
          await sleep(1_000);
          continue;
        }
        const waitFor = next.readyAt - now();
        if (waitFor > 0) {
          await sleep(waitFor);
          continue;
        }
        if (!(await attempt(next.item, socket, next.reply))) return;
      }
    } catch (err) {
      log.error({ err }, 'outbound queue stopped on an unexpected error');
    } finally {
      running = false;
    }
  }

  function kick(): void {
    if (closed) return;
    if (running) {
      wake?.();
      return;
    }
    void pump();
  }

  function handOver(reason: string): number {
    const items = [...queuedItems()];
    for (const item of items) {
      try {
        outbox.remove(item.commandId);
      } catch (err) {
        log.error({ err, commandId: item.commandId }, 'could not remove a handed-over send from the outbox');
      }
      settle(item.commandId, {
        ok: false,
        error: { code: 'SESSION_NOT_CONNECTED', message: `session ${sessionId} moved to another daemon (${reason}); retry with the same command id`, retryable: true },
      });
    }
    memory = [];
    return items.length;
  }

  /** The checks and the enqueue of a new send, once the quoted message is known to be journaled (or not needed). */
  function enqueue(args: SendArgs, argsHash: string, quotedKnown: boolean): Promise<SendResult> {
    if (closed) return Promise.reject(new StickerbotError('SHUTTING_DOWN'));
    if (queuedItems().some((item) => item.commandId === args.id)) {
      const joined = await_(args.id);
      kick();
      return joined;
    }
    if (!quotedKnown) return Promise.reject(new StickerbotError('MESSAGE_NOT_FOUND', `no journaled message ${String(args.quotedId)} to quote`));
    if (queuedItems().length >= maxQueued) {
      return Promise.reject(new StickerbotError('RATE_LIMITED', `session ${sessionId} has ${maxQueued} sends queued already; slow down`));
    }
    const enqueuedAt = now();
    outbox.enqueue({ commandId: args.id, sessionId, chat: args.chat, args, argsHash, enqueuedAt });
    queuedItems().push({ commandId: args.id, sessionId, chat: args.chat, args, argsHash, enqueuedAt, attempts: 0 });
    const pending = await_(args.id);
    kick();
    return pending;
  }

  return {
    send(args, argsHash) {
      if (closed) return Promise.reject(new StickerbotError('SHUTTING_DOWN'));
      if (queuedItems().some((item) => item.commandId === args.id)) {
        const joined = await_(args.id);
        kick();
        return joined;
      }
      if (!deps.socket()) return Promise.reject(new StickerbotError('SESSION_NOT_CONNECTED', `session ${sessionId} is not connected`));
      if (deps.breaker.state === 'open') {
        return Promise.reject(new StickerbotError('CIRCUIT_OPEN', `session ${sessionId}: too many consecutive WhatsApp failures; failing fast`));
      }
      const known = args.quotedId === undefined ? true : deps.journal.hasMessage(sessionId, args.quotedId);
      // Over Redis the lookup is a round trip: the checks before the enqueue run again after it.
      if (isPromise(known)) return known.then((quotedKnown) => enqueue(args, argsHash, quotedKnown));
      return enqueue(args, argsHash, known);
    },
    resume: kick,
    handOver,
    abandonAll(reason) {
      const items = [...queuedItems()];
      for (const item of items) {
        complete(item, { ok: false, error: { code: 'SESSION_NOT_CONNECTED', message: `send abandoned: ${reason}`, retryable: false } });
      }
      return items.length;
    },
    close() {
      closed = true;
      wake?.();
      for (const [commandId, waiter] of waiters) {
        for (const timer of waiter.timers) clearTimeout(timer);
        waiter.reject(new StickerbotError('SHUTTING_DOWN', `the daemon is shutting down; send ${commandId} stays queued`));
      }
      waiters.clear();
    },
    get size() {
      return queuedItems().length;
    },
  };
}
