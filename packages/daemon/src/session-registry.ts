/**
 * The contract between the sessions side of the daemon (Baileys sockets, state machine,
 * outbound queue) and the bridge side (Socket.IO namespaces, command executor, health).
 * `createSessionRegistry` (sessions side) implements it; the bridge only sees this.
 */
import type {
  JournalEntry,
  MessageSummary,
  Session,
  SessionErrorPayload,
  SessionQr,
  WorkerCommandArgs,
  WorkerCommandResult,
} from '@stickerbot/protocol';

/** Events the registry emits; the bridge relays them to workers and dashboards. */
export interface SessionRegistryEvents {
  /** A session changed state (also journaled as a `session:changed` event). */
  'session:changed': [session: Session];
  /** A session shows a (new) QR. */
  'session:qr': [qr: SessionQr];
  /** A session failed (connection error, conflict, refused version, zombie recycle). */
  'session:error': [payload: SessionErrorPayload];
  /** A message was journaled (summary for dashboards). */
  'message:received': [summary: MessageSummary];
  /** An entry was appended to the journal: push it to connected workers. */
  journaled: [entry: JournalEntry];
}

/**
 * Every session of the daemon. Operations that need WhatsApp throw `StickerbotError`
 * (`SESSION_NOT_FOUND`, `SESSION_NOT_CONNECTED`, `TIMEOUT`, `CIRCUIT_OPEN`,
 * `MESSAGE_NOT_FOUND`, `MEDIA_TOO_LARGE`, ...); the bridge turns them into wire errors.
 * Arguments arrive already validated with the protocol schemas.
 */
export interface SessionRegistry {
  on<E extends keyof SessionRegistryEvents>(event: E, listener: (...args: SessionRegistryEvents[E]) => void): this;
  off<E extends keyof SessionRegistryEvents>(event: E, listener: (...args: SessionRegistryEvents[E]) => void): this;

  list(): Session[];
  get(id: string): Session | undefined;
  /**
   * The QR a session shows right now (while `QR_REQUIRED`), so that a dashboard that
   * subscribes between two rotations gets it at once instead of up to 20 s later.
   * Optional: registries without QR logins (test doubles) may leave it out.
   */
  currentQr?(id: string): SessionQr | undefined;
  /** Registers, persists and starts a new session (`SESSION_EXISTS` if known). */
  create(id: string): Promise<Session>;
  /** Connects a stopped session (idempotent for a running one). */
  start(id: string): Promise<Session>;
  /** Closes the socket without logging out; the session stays registered, autostart off. */
  stop(id: string): Promise<Session>;
  /** Logs out of WhatsApp and wipes that session's credentials only. */
  logout(id: string): Promise<Session>;
  /** Asks WhatsApp for an 8-character pairing code for `phone` (digits only). */
  requestPairingCode(id: string, phone: string): Promise<string>;

  /**
   * Queues a send on the session's paced, persistent outbound queue (or joins the queued
   * send of the same id); resolves when WhatsApp accepted it. `argsHash` is the command
   * executor's hash of `args`, kept with the queued send and recorded with its outcome.
   */
  send(args: WorkerCommandArgs<'message:send'>, argsHash: string): Promise<WorkerCommandResult<'message:send'>>;
  downloadMedia(args: WorkerCommandArgs<'media:download'>): Promise<WorkerCommandResult<'media:download'>>;
  readMessages(args: WorkerCommandArgs<'message:read'>): Promise<WorkerCommandResult<'message:read'>>;
  sendPresence(args: WorkerCommandArgs<'presence:send'>): Promise<WorkerCommandResult<'presence:send'>>;
  lookupContacts(args: WorkerCommandArgs<'contact:lookup'>): Promise<WorkerCommandResult<'contact:lookup'>>;
  groupMetadata(args: WorkerCommandArgs<'group:metadata'>): Promise<WorkerCommandResult<'group:metadata'>>;

  /**
   * Starts every session that is in `bootSessions` or persisted with autostart, spread out: all
   * are `CONNECTING` at once, those waiting for a connect slot with `queuedAt` set; resolves
   * once they are queued (the first wave connecting), not when all are connected.
   */
  startAll(bootSessions: readonly string[]): Promise<void>;
  /** Persists the outbound queue and closes every socket without logging out. */
  stopAll(): Promise<void>;
}
