/**
 * The daemon's storage contracts. Each is one small interface with a SQLite implementation
 * behind it (`sqlite-*.ts`), so that a Redis implementation of the journal can take its
 * place later (DESIGN §8) without touching the bridge or the sessions. All methods are
 * synchronous: better-sqlite3 is synchronous, and the journal append must complete inside
 * the Baileys event handler before anything else happens (DESIGN §4, delivery details).
 */
import type { BotEvent, JournalEntry, Result, Session, SessionStatus, WireError, WorkerCommandArgs } from '@stickerbot/protocol';
import type { AuthenticationState, WAMessage } from '@whiskeysockets/baileys';

/** What the daemon hands the journal to append. */
export interface JournalAppend {
  sessionId: string;
  event: BotEvent;
  /**
   * The raw Baileys `WAMessage` of a `message:received` event, kept so that later
   * commands can refer to the message by id (download its media, quote it, react to it).
   * Serialised with Baileys' `BufferJSON`.
   */
  raw?: WAMessage;
  /** When the daemon journaled it (epoch ms); defaults to now. */
  ts?: number;
}

/** A consumer group's acknowledged position. */
export interface GroupPosition {
  group: string;
  /** `seq` of the last entry the group acknowledged (0: none). */
  position: number;
  /** When it last acknowledged (epoch ms). */
  updatedAt: number;
}

/** Retention policy: acknowledged entries older than `maxAgeMs` or beyond the newest `maxCount` go. */
export interface RetentionPolicy {
  maxAgeMs: number;
  maxCount: number;
  /** Unacknowledged entries above this count make the journal "full" (a /readyz failure). */
  maxUnacknowledged: number;
  /**
   * Deletes at most this many entries per call, so one call never stalls the event loop
   * for long (a worker that caught up after days can make a million entries prunable at
   * once); call again while `pruned` equals it. Default: no limit.
   */
  maxDelete?: number;
  now?: number;
}

/** Outcome of {@link Journal.prune}. */
export interface PruneOutcome {
  /** Entries deleted. */
  pruned: number;
  /** Entries no group has acknowledged yet (never pruned). */
  unacknowledged: number;
  /** Whether `unacknowledged` exceeds the policy's bound: loud, never silent loss. */
  full: boolean;
}

/** The durable event journal (DESIGN §3 Journal). */
export interface Journal {
  /** Appends one entry synchronously and durably; returns it with its new `seq`. */
  append(input: JournalAppend): JournalEntry;
  /**
   * Appends several entries in one transaction (all or none), in order: one commit for a
   * whole `messages.upsert` batch instead of one per message. Optional so that simple
   * fakes need not implement it; callers fall back to `append` one by one.
   */
  appendMany?(inputs: readonly JournalAppend[]): JournalEntry[];
  /** Entries with `seq > position`, in `seq` order, at most `limit`. */
  readAfter(position: number, limit: number): JournalEntry[];
  /**
   * The raw `WAMessage` journaled for a message id of a session, if still held. A row that
   * no longer decodes to a message is an `INTERNAL` `StickerbotError`, not `undefined`:
   * the message was journaled, it is just unusable.
   */
  findRawMessage(sessionId: string, messageId: string): WAMessage | undefined;
  /** Whether a raw message is journaled under this id of a session (without decoding it). */
  hasMessage(sessionId: string, messageId: string): boolean;
  /**
   * Cumulative acknowledgement: the group's position becomes `max(stored, position)`,
   * never beyond {@link lastSeq}. Creates the group on first use. Returns the new position.
   */
  ack(group: string, position: number): number;
  /**
   * Registers a group at `position` (clamped to {@link lastSeq}) if it is not known yet, so
   * that retention keeps everything after it from that moment on, before its first ack.
   * A known group keeps its stored position. Returns the stored position.
   */
  ensureGroup(group: string, position: number): number;
  /** The group's stored position (0 for an unknown group). */
  position(group: string): number;
  /** Every known group's position. */
  positions(): GroupPosition[];
  /** The highest `seq` ever appended (0 when empty); survives pruning and restarts. */
  lastSeq(): number;
  /** Applies retention. Only entries every known group has acknowledged may go. */
  prune(policy: RetentionPolicy): PruneOutcome;
  /** Entries held now. */
  count(): number;
}

/** A session as persisted by the daemon (its registry survives restarts). */
export interface StoredSession {
  id: string;
  status: SessionStatus;
  /** Whether the daemon starts it on boot (false after an explicit stop or a logout). */
  autostart: boolean;
  account?: Session['account'];
  lastError?: WireError;
  createdAt: number;
  updatedAt: number;
}

/** The registry of sessions. */
export interface SessionStore {
  list(): StoredSession[];
  get(id: string): StoredSession | undefined;
  /** Inserts or updates (by id); `createdAt` is kept on update. */
  save(session: Omit<StoredSession, 'createdAt' | 'updatedAt'> & { updatedAt?: number }): StoredSession;
  remove(id: string): void;
}

/**
 * Baileys authentication state: creds plus Signal keys, `BufferJSON` serialisation, every
 * `keys.set` atomic. The value returned by {@link AuthStore.open} is what
 * `makeWASocket({ auth })` takes (before the cacheable key-store wrapper, which the socket
 * factory adds). SQLite (`sqlite-auth-store.ts`) answers everything synchronously; cluster
 * mode's Redis store loads a session's state when its daemon takes the lease and writes
 * asynchronously, fenced by the lease epoch, so its `saveCreds` and `clear` return promises
 * (and its `keys` answer with promises, which Baileys awaits).
 */
export interface AuthStore {
  /** One session's state, loaded (or initialised). `saveCreds` persists `state.creds`. */
  open(sessionId: string): { state: AuthenticationState; saveCreds: () => void | Promise<void> };
  /** Whether the session has stored creds that completed a login. */
  hasCredentials(sessionId: string): boolean;
  /** Deletes every stored value of this session (logout) and nothing else. */
  clear(sessionId: string): void | Promise<void>;
  /**
   * The phone-number JID (`…@s.whatsapp.net`) Baileys has mapped a LID (`…@lid`) to, from
   * the `lid-mapping` keys it stores, or `undefined` when it has none. Synchronous, for
   * mapping a message before its receipt leaves.
   */
  phoneOfLid(sessionId: string, lid: string): string | undefined;
}

/** Recorded outcome of a command id (idempotency, DESIGN §3 Commands). */
export interface CommandRecord {
  id: string;
  op: string;
  sessionId?: string;
  /**
   * Hash of the validated arguments (`commandArgsHash`): a repeat of the id with other
   * arguments is refused (`IDEMPOTENCY_CONFLICT`). Absent only on records written before
   * migration 004, and on the outcome of a send queued before migration 005; both match
   * any arguments.
   */
  argsHash?: string | undefined;
  result: Result<unknown>;
  createdAt: number;
}

/** What is recorded for a command id. */
export type CommandRecordInput = Omit<CommandRecord, 'createdAt'> & { createdAt?: number };

/** The idempotency log: a repeated command id (with the same arguments) returns the recorded result. */
export interface CommandLog {
  get(id: string): CommandRecord | undefined;
  /** Whether an outcome is recorded for the id (without reading it). */
  has(id: string): boolean;
  record(record: CommandRecordInput): void;
  /** Deletes records older than `olderThanMs` before `now`. Returns how many. */
  prune(olderThanMs: number, now?: number): number;
}

/** What {@link SharedCommandLog.claim} found for a command id. */
export type CommandClaim =
  /**
   * Nobody ran the id, or the daemon that claimed it lost the session's lease since (`takenFrom`:
   * that holder and the lease epoch it claimed under): it is reserved for this daemon until
   * recorded, released, or the claim expires.
   */
  | { state: 'claimed'; takenFrom?: { holder: string; epoch: number } }
  /** An outcome is recorded already. */
  | { state: 'recorded'; record: CommandRecord }
  /** Another daemon holds the id's claim: it is running there now. */
  | { state: 'running'; holder: string; op: string; argsHash?: string | undefined };

/**
 * The idempotency log as the command executor uses it: the synchronous SQLite
 * {@link CommandLog} as it is, or a log shared by several daemons (cluster mode,
 * cluster/redis-command-log.ts), which answers with promises and adds claims, so that two
 * daemons that get one command id at once (while its session changes owner) cannot both run it.
 */
export interface SharedCommandLog {
  get(id: string): CommandRecord | undefined | Promise<CommandRecord | undefined>;
  has(id: string): boolean | Promise<boolean>;
  record(record: CommandRecordInput): void | Promise<void>;
  /** Atomically: the recorded outcome, or another daemon's claim, or a new claim for this daemon. Absent: one process, no claims needed. */
  claim?(id: string, first: { op: string; argsHash: string; sessionId?: string | undefined }): Promise<CommandClaim>;
  /** Drops this daemon's claim of an id that ran without an outcome to record (a retryable failure). */
  release?(id: string): Promise<void>;
}

/** One pending outbound send, persisted so a daemon restart resumes it. */
export interface OutboxItem {
  /** The command id of the `message:send` that queued it. */
  commandId: string;
  sessionId: string;
  chat: string;
  /** The `message:send` arguments as validated at the bridge (binary kept as binary). */
  args: WorkerCommandArgs<'message:send'>;
  /** Hash of those arguments (`commandArgsHash`); absent on items queued before migration 005. */
  argsHash?: string | undefined;
  enqueuedAt: number;
  attempts: number;
}

/** What the outbox tells about a queued command id: enough to refuse a repeat with other arguments. */
export interface QueuedCommand {
  op: 'message:send';
  /** See {@link OutboxItem.argsHash}. */
  argsHash?: string | undefined;
}

/** The persistent per-session outbound queue store (pacing is the runtime's job). */
export interface OutboxStore {
  enqueue(item: Omit<OutboxItem, 'attempts' | 'enqueuedAt' | 'argsHash'> & { argsHash: string; enqueuedAt?: number }): void;
  /** Pending items of a session, oldest first. */
  pending(sessionId: string): OutboxItem[];
  /** The queued command of this id, if it is queued. */
  find(commandId: string): QueuedCommand | undefined;
  markAttempt(commandId: string): void;
  /** Removes the item and records its outcome in the command log, in one transaction. */
  complete(commandId: string, record: CommandRecordInput): void;
  /** Pending items across sessions. */
  size(): number;
  /**
   * Removes the item without recording an outcome, so that the same command id may act again
   * (a send handed over to the daemon that owns its session now, cluster mode). Whether it was queued.
   */
  remove(commandId: string): boolean;
}
