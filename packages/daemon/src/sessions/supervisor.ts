/**
 * One session's lifecycle (DESIGN §3): the state machine
 * `STOPPED → CONNECTING → QR_REQUIRED ⇄ CONNECTING → CONNECTED → RECONNECTING → …`,
 * terminal `LOGGED_OUT`, `ERROR` with the last error; the disconnect policy; QR and
 * pairing-code login; deaf-connection detection. Each connection attempt is one socket
 * from the factory; state events of a socket that is no longer current are ignored, but
 * its message events are still journaled (Baileys may have acked them already).
 */
import { StickerbotError, type Session, type SessionQr, type SessionStatus, type WireError } from '@stickerbot/protocol';
import { createBackoff } from '@stickerbot/runtime';
import { accountOf, attachAttempt, type Attempt } from './connection-attempt.js';
import { decideDisconnect, type DisconnectAction, type DisconnectDecision } from './disconnect-policy.js';
import { DEFAULT_OP_TIMEOUTS, withTimeout } from './op-timeout.js';
import { qrDataUrl, silentQrPrinter } from '../qr-output.js';
import { createEventJournaler, type EventJournaler } from './event-journaler.js';
import type { SessionSupervisor, SessionSupervisorDeps } from './supervisor-types.js';
import type { WaSocketEvents, WaSocketOptions } from './wa-socket.js';
import { createLiveness, deafReason, DEFAULT_ZOMBIE, noteAck, noteSent, type ZombieOptions } from './zombie-watch.js';

/** How long a connection must stay open before the backoff resets (DESIGN §3: a stable minute). */
const STABLE_CONNECTION_MS = 60_000;

const RUNNING: ReadonlySet<SessionStatus> = new Set(['CONNECTING', 'QR_REQUIRED', 'CONNECTED', 'RECONNECTING']);
/** States in which a start no longer holds a start-queue slot: everything but `CONNECTING`. */
const SETTLED: ReadonlySet<SessionStatus> = new Set(['STOPPED', 'QR_REQUIRED', 'CONNECTED', 'RECONNECTING', 'LOGGED_OUT', 'ERROR']);

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Creates the supervisor of one session (initially `STOPPED`, or as persisted for `LOGGED_OUT`/`ERROR`). */
export function createSessionSupervisor(deps: SessionSupervisorDeps): SessionSupervisor {
  const { sessionId: id, logger: log } = deps;
  const options = deps.options ?? {};
  const now = options.now ?? Date.now;
  const keepAliveMs = options.socket?.keepAliveIntervalMs;
  // Frames arrive at least once a keep-alive period (the server answers each ping).
  const frameTimeoutMs = keepAliveMs === undefined ? DEFAULT_ZOMBIE.frameTimeoutMs : Math.max(DEFAULT_ZOMBIE.frameTimeoutMs, Math.ceil(keepAliveMs * 2.5));
  const zombie: ZombieOptions = { ...DEFAULT_ZOMBIE, frameTimeoutMs, ...options.zombie };
  const qrTtl = options.qrTtlMs ?? { first: 60_000, next: 20_000 };
  const stableMs = options.stableMs ?? STABLE_CONNECTION_MS;
  const maxImmediateRestarts = options.maxImmediateRestarts ?? 3;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  const printQr = options.qrPrinter ?? silentQrPrinter;
  const backoff = createBackoff(options.backoff);

  const stored = deps.stored;
  let status: SessionStatus = stored?.status === 'LOGGED_OUT' || stored?.status === 'ERROR' ? stored.status : 'STOPPED';
  let autostart = stored?.autostart ?? true;
  let account = stored?.account;
  let lastError: WireError | undefined = stored?.lastError;
  let lastDisconnect: string | undefined;
  let nextRetryAt: number | undefined;
  // Set while the session waits in the registry's start queue (CONNECTING, no socket yet).
  let queuedAt: number | undefined;
  let updatedAt = stored?.updatedAt ?? now();
  let immediateRestarts = 0;
  let current: Attempt | undefined;
  let lastQr: SessionQr | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let stableTimer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let connectDeadline: NodeJS.Timeout | undefined;
  const statusWaiters = new Set<() => void>();

  const events: EventJournaler = createEventJournaler({
    sessionId: id,
    journal: deps.journal,
    emit: deps.emit,
    logger: log,
    selfJid: () => account?.jid,
    selfLid: () => account?.lid,
    phoneOfLid: (lid) => deps.authStore.phoneOfLid(id, lid),
    ...(deps.groups ? { groups: deps.groups } : {}),
    onServerAck: (messageId) => current && noteAck(current.liveness, messageId),
    onJournaled: (entry) => deps.metrics?.journaled?.(entry),
  });

  function snapshot(): Session {
    const session: Session = { id, status, reconnectAttempts: backoff.attempts, updatedAt };
    if (account) session.account = account;
    if (lastError) session.lastError = lastError;
    if (lastDisconnect) session.lastDisconnect = lastDisconnect;
    if (nextRetryAt !== undefined && status === 'RECONNECTING') session.nextRetryAt = nextRetryAt;
    if (queuedAt !== undefined && status === 'CONNECTING') session.queuedAt = queuedAt;
    return session;
  }

  function persist(): void {
    try {
      deps.sessionStore.save({ id, status, autostart, account, lastError, updatedAt });
    } catch (err) {
      log.error({ err }, 'could not persist the session state');
    }
  }

  /**
   * Applies a change, persists it, journals `session:changed` and broadcasts it. `quiet`:
   * only this daemon's listeners hear of it (a session whose lease was lost: its new owner
   * persists and journals its state, and a late STOPPED from here would contradict it).
   */
  function changed(next: SessionStatus, at = now(), quiet = false): void {
    const previous = status;
    status = next;
    updatedAt = at;
    if (!quiet) persist();
    const session = snapshot();
    if (!quiet) events.sessionChanged(session);
    deps.emit('session:changed', session);
    if (previous !== next) {
      log.info({ from: previous, to: next, ...(lastDisconnect ? { lastDisconnect } : {}) }, 'session state changed');
    }
    for (const wake of [...statusWaiters]) wake();
    deps.onStatus?.(next);
  }

  function reportError(error: WireError): void {
    deps.emit('session:error', { sessionId: id, error });
  }

  function clearTimers(): void {
    for (const timer of [retryTimer, stableTimer, watchdog, connectDeadline]) if (timer) clearTimeout(timer);
    if (watchdog) clearInterval(watchdog);
    retryTimer = stableTimer = watchdog = connectDeadline = undefined;
  }

  /** Forgets the current socket (its state events are ignored from now on) and closes it. */
  function release(reason: Error | undefined): Promise<void> {
    const attempt = current;
    current = undefined;
    lastQr = undefined;
    clearTimers();
    if (!attempt) return Promise.resolve();
    attempt.detach();
    return withTimeout('close', closeTimeoutMs, () => attempt.socket.end(reason)).catch((err: unknown) => {
      log.debug({ err }, 'socket did not close cleanly');
    });
  }

  function connect(): void {
    retryTimer = undefined;
    let attempt: Attempt;
    try {
      const { state, saveCreds } = deps.authStore.open(id);
      const socketOptions: WaSocketOptions = {
        ...options.socket,
        sessionId: id,
        auth: state,
        // Baileys is chatty at info; its warnings and errors are what an operator needs.
        logger: log.child({ module: 'baileys' }, { level: log.levelVal === 30 ? 'warn' : log.level }),
        beforeReceipt: events.received,
        getMessage: async (key) => {
          if (!key.id) return undefined;
          try {
            return (await deps.journal.findRawMessage(id, key.id))?.message ?? undefined;
          } catch (err) {
            // Baileys asks for a message to re-encrypt it for a retry receipt: an unreadable
            // row means no resend, not a broken socket.
            log.warn({ err, id: key.id }, 'a journaled message asked for by a retry receipt cannot be read');
            return undefined;
          }
        },
      };
      log.info({ attempt: backoff.attempts, url: options.socket?.waWebSocketUrl ?? 'default', version: options.socket?.version?.join('.') ?? 'baileys default' }, 'connecting to WhatsApp');
      const socket = deps.socketFactory(socketOptions);
      attempt = { socket, liveness: createLiveness(now()), qrCount: 0, detach: () => undefined };
      current = attempt;
      attempt.detach = attach(attempt, saveCreds);
    } catch (err) {
      current = undefined;
      log.error({ err }, 'could not create the WhatsApp socket');
      lastError = { code: 'INTERNAL', message: `could not create the WhatsApp socket: ${errorMessage(err)}`, retryable: false };
      reportError(lastError);
      changed('ERROR');
      return;
    }
    const deadlineMs = options.connectDeadlineMs ?? 60_000;
    connectDeadline = setTimeout(() => {
      connectDeadline = undefined;
      if (current === attempt && attempt.qrCount === 0 && status !== 'CONNECTED') {
        recycle(`no answer from WhatsApp within ${deadlineMs / 1000} s of connecting`, 'connectTimeout');
      }
    }, deadlineMs);
  }

  function attach(attempt: Attempt, saveCreds: () => void | Promise<void>): () => void {
    const onConnection = (update: WaSocketEvents['connection.update']) => {
      if (current !== attempt) return;
      if (update.qr) onQr(attempt, update.qr);
      if (update.connection === 'connecting' && (status === 'STOPPED' || status === 'ERROR' || status === 'LOGGED_OUT')) changed('CONNECTING');
      if (update.connection === 'open') onOpen(attempt);
      if (update.connection === 'close') onClose(attempt, update.lastDisconnect?.error);
    };
    return attachAttempt(attempt, { onConnection, saveCreds, events, now, logger: log });
  }

  function onQr(attempt: Attempt, qr: string): void {
    attempt.qrCount += 1;
    const sequence = attempt.qrCount;
    const expiresAt = now() + (attempt.qrCount === 1 ? qrTtl.first : qrTtl.next);
    const help = options.loginHelp?.();
    log.info(
      { expiresAt: new Date(expiresAt).toISOString(), qrCount: attempt.qrCount, ...help, link: `pnpm link:session ${id} [--phone <number>]` },
      help
        ? `QR login required: open ${help.dashboard} (admin token: ${help.tokenLocation}), or run pnpm link:session ${id} for the QR or a pairing code`
        : 'QR login required',
    );
    // A rotated QR is not a state change: dashboards get it as `session:qr`, the journal stays quiet.
    if (status !== 'QR_REQUIRED') changed('QR_REQUIRED');
    try {
      printQr(id, qr, expiresAt);
    } catch (err) {
      log.warn({ err }, 'could not print the QR');
    }
    qrDataUrl(qr).then(
      (dataUrl) => {
        // Rendering is async: a QR WhatsApp already replaced must not overwrite the newer one.
        if (current !== attempt || status !== 'QR_REQUIRED' || attempt.qrCount !== sequence) return;
        lastQr = { sessionId: id, qr, dataUrl, expiresAt };
        deps.emit('session:qr', lastQr);
      },
      (err: unknown) => log.warn({ err }, 'could not render the QR'),
    );
  }

  function onOpen(attempt: Attempt): void {
    account = accountOf(attempt.socket) ?? account;
    lastError = undefined;
    nextRetryAt = undefined;
    lastQr = undefined;
    immediateRestarts = 0;
    attempt.liveness.lastFrameAt = now();
    if (connectDeadline) clearTimeout(connectDeadline);
    connectDeadline = undefined;
    changed('CONNECTED');
    log.info({ account: account?.jid }, 'connected to WhatsApp');
    stableTimer = setTimeout(() => {
      stableTimer = undefined;
      if (current !== attempt || backoff.attempts === 0) return;
      backoff.reset();
      log.debug('connection stable: backoff reset');
      changed('CONNECTED');
    }, stableMs);
    watchdog = setInterval(() => {
      if (current !== attempt || status !== 'CONNECTED') return;
      const reason = deafReason(attempt.liveness, now(), zombie);
      if (reason) recycle(reason);
    }, zombie.checkIntervalMs);
  }

  /** Drops a socket that looks dead (`zombie`: deaf while connected; `connectTimeout`: stuck before login). */
  function recycle(detail: string, reason: 'zombie' | 'connectTimeout' = 'zombie'): void {
    const what = reason === 'zombie' ? 'Deaf connection' : 'Connection attempt stuck';
    log.warn({ reason, detail }, `${what}: recycling the socket`);
    deps.metrics?.reconnect?.(reason);
    reportError({ code: 'TIMEOUT', message: `${what} (${detail}); recycling the socket`, retryable: true });
    void release(new Error(`${what}: ${detail}`));
    scheduleReconnect({ reason, statusCode: undefined, action: 'backoff' }, detail);
  }

  const ACTIONS: Record<DisconnectAction, (decision: DisconnectDecision, detail: string) => void> = {
    'reconnect-now': (decision, detail) => {
      immediateRestarts += 1;
      if (immediateRestarts > maxImmediateRestarts) {
        scheduleReconnect(decision, detail);
        return;
      }
      const wasConnected = status === 'CONNECTED' || status === 'RECONNECTING';
      log.info({ reason: decision.reason }, 'WhatsApp asked for a restart: reconnecting now');
      changed(wasConnected ? 'RECONNECTING' : 'CONNECTING');
      connect();
    },
    'logged-out': (decision) => {
      wipeAuth();
      account = undefined;
      autostart = false;
      lastError = decision.error;
      if (lastError) reportError(lastError);
      changed('LOGGED_OUT');
    },
    stop: (decision) => {
      lastError = decision.error;
      if (lastError) reportError(lastError);
      changed('ERROR');
    },
    backoff: (decision, detail) => {
      scheduleReconnect(decision, detail);
      if (lastError) reportError(lastError);
    },
  };

  function onClose(attempt: Attempt, error: unknown): void {
    void release(undefined);
    const decision = decideDisconnect(error);
    const detail = errorMessage(error ?? 'connection closed');
    lastDisconnect = decision.reason;
    log.warn({ reason: decision.reason, statusCode: decision.statusCode, action: decision.action, err: error, qrShown: attempt.qrCount }, 'WhatsApp connection closed');
    if (decision.action === 'backoff' || decision.action === 'reconnect-now') deps.metrics?.reconnect?.(decision.reason);
    ACTIONS[decision.action](decision, detail);
  }

  function scheduleReconnect(decision: DisconnectDecision, detail: string): void {
    const delay = backoff.next();
    // One clock reading for both, so nextRetryAt - updatedAt is exactly the delay shown.
    const at = now();
    nextRetryAt = at + delay;
    lastDisconnect = decision.reason;
    lastError = { code: 'SESSION_NOT_CONNECTED', message: `${decision.reason}: ${detail}; reconnecting in ${(delay / 1000).toFixed(1)} s`, retryable: true };
    log.info({ attempt: backoff.attempts, delayMs: delay, reason: decision.reason }, 'reconnecting after backoff');
    changed('RECONNECTING', at);
    retryTimer = setTimeout(connect, delay);
  }

  function wipeAuth(): void {
    try {
      const wiped = deps.authStore.clear(id);
      if (wiped) wiped.catch((err: unknown) => log.error({ err }, 'could not wipe the credentials'));
    } catch (err) {
      log.error({ err }, 'could not wipe the credentials');
    }
  }

  /** Marks a stopped session as starting, without a socket yet (see `enqueue`). */
  function prepareStart(): void {
    autostart = true;
    backoff.reset();
    immediateRestarts = 0;
    lastError = undefined;
    nextRetryAt = undefined;
  }

  function waitForStatus(wanted: ReadonlySet<SessionStatus>, timeoutMs: number): Promise<SessionStatus> {
    if (wanted.has(status)) return Promise.resolve(status);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        statusWaiters.delete(wake);
        reject(new StickerbotError('TIMEOUT', `session ${id} did not get ready for a login within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const wake = () => {
        if (!wanted.has(status)) return;
        clearTimeout(timer);
        statusWaiters.delete(wake);
        resolve(status);
      };
      statusWaiters.add(wake);
    });
  }

  const supervisor: SessionSupervisor = {
    id,
    get status() {
      return status;
    },
    snapshot,
    currentQr: () => (status === 'QR_REQUIRED' ? lastQr : undefined),
    connectedSocket: () => (status === 'CONNECTED' ? current?.socket : undefined),

    enqueue() {
      if (RUNNING.has(status)) return false;
      prepareStart();
      queuedAt = now();
      changed('CONNECTING');
      return true;
    },

    startQueued() {
      if (queuedAt === undefined || status !== 'CONNECTING') return false;
      queuedAt = undefined;
      changed('CONNECTING');
      connect();
      return true;
    },

    settled(timeoutMs) {
      return waitForStatus(SETTLED, timeoutMs).then(
        () => undefined,
        () => undefined,
      );
    },

    start() {
      // Started by hand while it waits in the start queue: it jumps the queue.
      if (queuedAt !== undefined && supervisor.startQueued()) return Promise.resolve(snapshot());
      if (RUNNING.has(status)) {
        if (!autostart) {
          autostart = true;
          persist();
        }
        return Promise.resolve(snapshot());
      }
      prepareStart();
      changed('CONNECTING');
      connect();
      return Promise.resolve(snapshot());
    },

    async stop(stopOptions = {}) {
      await release(undefined);
      if (!stopOptions.keepAutostart) autostart = false;
      nextRetryAt = undefined;
      queuedAt = undefined;
      backoff.reset();
      if (status !== 'LOGGED_OUT' && status !== 'ERROR') changed('STOPPED', now(), stopOptions.quiet);
      else if (!stopOptions.quiet) persist();
      return snapshot();
    },

    async logout() {
      const attempt = current;
      if (attempt && status === 'CONNECTED') {
        current = undefined;
        attempt.detach();
        try {
          await withTimeout('logout', DEFAULT_OP_TIMEOUTS.sendMs, () => attempt.socket.logout());
        } catch (err) {
          log.warn({ err }, 'logout did not reach WhatsApp; wiping the credentials anyway');
          await withTimeout('close', closeTimeoutMs, () => attempt.socket.end(undefined)).catch(() => undefined);
        }
      }
      await release(undefined);
      wipeAuth();
      account = undefined;
      autostart = false;
      lastError = undefined;
      nextRetryAt = undefined;
      queuedAt = undefined;
      lastDisconnect = 'loggedOut';
      backoff.reset();
      log.info('logged out: credentials wiped');
      changed('LOGGED_OUT');
      return snapshot();
    },

    async requestPairingCode(phone) {
      if (status === 'CONNECTED') throw new StickerbotError('INVALID_ARGS', `session ${id} is already linked; log it out first`);
      if (!RUNNING.has(status) || queuedAt !== undefined) await supervisor.start();
      await waitForStatus(new Set(['QR_REQUIRED']), options.pairingWaitMs ?? 30_000);
      const socket = current?.socket;
      if (!socket) throw new StickerbotError('SESSION_NOT_CONNECTED', `session ${id} has no connection to WhatsApp right now`);
      const code = await withTimeout('pairing code', DEFAULT_OP_TIMEOUTS.lookupMs, () => socket.requestPairingCode(phone));
      log.info('pairing code issued');
      return code;
    },

    trackSent(messageId) {
      if (current) noteSent(current.liveness, messageId, now());
    },

    forget() {
      deps.sessionStore.remove(id);
    },
  };
  return supervisor;
}
