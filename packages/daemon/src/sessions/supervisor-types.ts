/**
 * The contract of a session supervisor: its collaborators, tunables and interface
 * (implemented by `supervisor.ts`).
 */
import type { JournalEntry, Session, SessionQr, SessionStatus } from '@stickerbot/protocol';
import type { BackoffOptions } from '@stickerbot/runtime';
import type { Logger } from 'pino';
import type { LoginHelp } from '../login-help.js';
import type { QrPrinter } from '../qr-output.js';
import type { RegistryEmit } from './event-journaler.js';
import type { GroupMetadataCache } from './group-metadata-cache.js';
import type { AuthStore, SessionStore, StoredSession } from '../storage/index.js';
import type { SessionJournal } from './session-journal.js';
import type { WaSocket, WaSocketFactory, WaSocketOptions } from './wa-socket.js';
import type { ZombieOptions } from './zombie-watch.js';

/** What the sessions side reports to the metrics (`DaemonMetrics` fits it). */
export interface SessionMetricsSink {
  /** Counts one reconnect and why (the `DisconnectReason` name, or `zombie` for a recycled deaf socket). */
  reconnect?(reason: string): void;
  /** Counts one journaled entry. */
  journaled?(entry: JournalEntry): void;
}

/** Socket options the supervisor passes through to the factory unchanged. */
export type PassThroughSocketOptions = Omit<WaSocketOptions, 'sessionId' | 'auth' | 'logger' | 'getMessage'>;

/** Tunables of a supervisor (all optional; defaults from DESIGN §3). */
export interface SupervisorOptions {
  socket?: PassThroughSocketOptions;
  backoff?: BackoffOptions;
  /** A connection open this long resets the backoff (default 60 s). */
  stableMs?: number;
  zombie?: Partial<ZombieOptions>;
  qrPrinter?: QrPrinter;
  /** Where else to link (dashboard URL, token location), added to the `QR login required` log line. */
  loginHelp?: () => LoginHelp | undefined;
  /** How long WhatsApp shows the first QR, then each rotated one (Baileys: 60 s, 20 s). */
  qrTtlMs?: { first: number; next: number };
  /** `restartRequired` closes in a row before they are treated like any other close. */
  maxImmediateRestarts?: number;
  /** How long `requestPairingCode` waits for the socket to be ready for a login. */
  pairingWaitMs?: number;
  /** Bound on closing a socket on stop/logout (a dead TCP connection may never close cleanly). */
  closeTimeoutMs?: number;
  /**
   * A connection attempt that neither opens, shows a QR nor closes within this long is
   * recycled (default 60 s; Baileys' own handshake timeout is 20 s, this is the backstop).
   */
  connectDeadlineMs?: number;
  now?: () => number;
}

/** Collaborators of {@link createSessionSupervisor}. */
export interface SessionSupervisorDeps {
  sessionId: string;
  socketFactory: WaSocketFactory;
  authStore: AuthStore;
  sessionStore: SessionStore;
  /** The SQLite journal, or cluster mode's Redis journal. */
  journal: SessionJournal;
  /** The session's logger (child with `sessionId`). */
  logger: Logger;
  emit: RegistryEmit;
  metrics?: SessionMetricsSink;
  /** Called after every status change (the registry resumes the outbound queue on `CONNECTED`). */
  onStatus?: (status: SessionStatus) => void;
  /** The persisted record, when the session is known from an earlier run. */
  stored?: StoredSession;
  /** The session's group metadata cache, kept current by the group notifications it journals. */
  groups?: GroupMetadataCache;
  options?: SupervisorOptions;
}

/** One session's lifecycle. */
export interface SessionSupervisor {
  readonly id: string;
  readonly status: SessionStatus;
  /** The session as reported on the wire. */
  snapshot(): Session;
  /** The latest QR while `QR_REQUIRED`. */
  currentQr(): SessionQr | undefined;
  /** The socket, only while `CONNECTED`. */
  connectedSocket(): WaSocket | undefined;
  /**
   * Marks a session that is not running as `CONNECTING` with `queuedAt` set, without a socket
   * yet (it waits in the registry's start queue); false when it is already running.
   */
  enqueue(): boolean;
  /** Opens the socket of a queued session; false when it is no longer queued (stopped, or started by hand). */
  startQueued(): boolean;
  /** Resolves once the session is no longer `CONNECTING` (connected, QR, closed, stopped), or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void>;
  /** Connects (idempotent while running; a queued session jumps the queue); marks the session for autostart. */
  start(): Promise<Session>;
  /**
   * Closes the socket without logging out. `keepAutostart` for daemon shutdown; `quiet`
   * (cluster mode, the lease was lost) neither persists nor journals the stop.
   */
  stop(options?: { keepAutostart?: boolean; quiet?: boolean }): Promise<Session>;
  /** Logs out of WhatsApp and wipes this session's auth. */
  logout(): Promise<Session>;
  /** An 8-character pairing code for `phone` (starts the session if needed). */
  requestPairingCode(phone: string): Promise<string>;
  /** Watches a sent message for its server ack (deaf-connection detection). */
  trackSent(messageId: string): void;
  /** Removes the session's record (after stop). */
  forget(): void;
}
