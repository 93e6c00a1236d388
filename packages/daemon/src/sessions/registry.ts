/**
 * The daemon's registry of sessions (implements {@link SessionRegistry}): one supervisor,
 * one circuit breaker and one outbound queue per session, over the stores. The registry
 * is an object the composition root creates and passes down; nothing is module state,
 * and no Baileys global is used to find a socket.
 *
 * In cluster mode (`ownership` given) the registry knows every session of the cluster (its
 * session store is a view of Redis') but runs only those whose lease this daemon holds: the
 * cluster's balancer starts a session here once it took the lease (`startLeased`) and stops
 * it when the lease is lost or handed over (`stopLeased`); a new session, or a stopped one
 * started here, is claimed first (this daemon takes its lease, then shows its QR).
 */
import {
  StickerbotError,
  sessionIdSchema,
  type Session,
  type WorkerCommandResult,
} from '@stickerbot/protocol';
import type { Logger } from 'pino';
import { createCircuitBreaker, type CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { createGroupMetadataCache, toGroupInfo, type GroupCacheLimits, type GroupMetadataCache } from './group-metadata-cache.js';
import { mapMessage, normalizeJid, quotedMessageOf } from './message-mapper.js';
import { DEFAULT_OP_TIMEOUTS, withTimeout, type OpTimeouts } from './op-timeout.js';
import { createOutboundQueue, type OutboundQueue, type PacingOptions } from './outbound-queue.js';
import type { RegistryEmit } from './event-journaler.js';
import type { SessionRegistry, SessionRegistryEvents } from '../session-registry.js';
import { createStartQueue, DEFAULT_START_QUEUE, type StartQueue, type StartQueueOptions } from './start-queue.js';
import { createSessionSupervisor } from './supervisor.js';
import type { PassThroughSocketOptions, SessionMetricsSink, SessionSupervisor, SupervisorOptions } from './supervisor-types.js';
import { loadBaileys, type AuthStore, type OutboxStore, type SessionStore, type StoredSession } from '../storage/index.js';
import type { SessionJournal } from './session-journal.js';
import { toSessionError } from './wa-errors.js';
import type { WaSocket, WaSocketFactory } from './wa-socket.js';

/** The stores the registry works over (the `Storage` of `storage/index.ts` fits). */
export interface RegistryStorage {
  /** The SQLite journal, or cluster mode's Redis journal. */
  journal: SessionJournal;
  auth: AuthStore;
  sessions: SessionStore;
  outbox: OutboxStore;
}

/** Collaborators and configuration of {@link createSessionRegistry}. */
export interface SessionRegistryDeps {
  storage: RegistryStorage;
  socketFactory: WaSocketFactory;
  /** Passed to the factory on every connect (URL, agents, version, history sync). */
  socketOptions?: PassThroughSocketOptions;
  /** Largest media downloaded, in bytes (`STICKERBOT_MAX_MEDIA_MB`; the bridge refuses larger media to send). */
  maxMediaBytes: number;
  metrics?: SessionMetricsSink;
  logger: Logger;
  now?: () => number;
  /** Supervisor tunables (backoff, deaf-connection thresholds, QR printer and login help; default: no QR printed). */
  supervisor?: Omit<SupervisorOptions, 'socket' | 'now'>;
  pacing?: Partial<PacingOptions>;
  timeouts?: Partial<OpTimeouts>;
  circuit?: Omit<CircuitBreakerOptions, 'now' | 'onStateChange'>;
  /** Uniform random in [0, 1) for pacing and start jitter (tests). */
  random?: () => number;
  /** How long `send` awaits a queued message before `TIMEOUT` (it stays queued). */
  sendWaitMs?: number;
  /** Most sends queued per session before `RATE_LIMITED` (default 1000). */
  maxQueuedSends?: number;
  /** Bounds of each session's group metadata cache (defaults in `group-metadata-cache.ts`). */
  groupCache?: Partial<GroupCacheLimits>;
  /** How `startAll` spreads the connects (concurrency, jitter; defaults in `start-queue.ts`). */
  start?: Partial<StartQueueOptions>;
  /** Cluster mode: who holds which session's lease (the cluster node). Absent: one host, every session is this daemon's. */
  ownership?: SessionOwnership;
}

/** What the registry asks the cluster in cluster mode (`ClusterNode` implements it). */
export interface SessionOwnership {
  /** The epoch of the session's lease while this daemon holds it (by its local deadline), else `undefined`. */
  epochOf(sessionId: string): number | undefined;
  /**
   * Takes the lease of a session nobody holds and starts it here (through `startLeased`).
   * Resolves false when another daemon holds it.
   */
  claim(sessionId: string): Promise<boolean>;
  /** Whether the cluster knows the session (it may have been registered on another daemon a moment ago). */
  known(sessionId: string): Promise<boolean>;
}

interface Entry {
  supervisor: SessionSupervisor;
  breaker: CircuitBreaker;
  queue: OutboundQueue;
  groups: GroupMetadataCache;
  /** Cluster mode: the lease epoch the session was started with here (sends are fenced by it). */
  lease: { epoch: number | undefined };
}

type Listener = (...args: never) => void;

const PRESENCES_NEEDING_CHAT = new Set(['composing', 'recording', 'paused']);

function digits(jid: string): string {
  return (jid.split('@')[0] ?? '').split(':')[0] ?? '';
}

/** The registry as the daemon holds it: the bridge's interface plus what the metrics read. */
export interface LocalSessionRegistry extends SessionRegistry {
  /** Groups cached per session (for `stickerbot_session_cache_entries{cache="groups"}`). */
  groupCacheSizes(): Map<string, number>;
  /** Estimated bytes of each session's group cache. */
  groupCacheBytes(): Map<string, number>;
  /** Cluster mode: registers the sessions not known yet, without starting them (the balancer starts each where its lease is taken). */
  registerAll(ids: readonly string[]): void;
  /**
   * Cluster mode: starts a session whose lease this daemon took at `epoch`; `stored` is its
   * record as Redis has it now (the previous owner's status and account).
   */
  startLeased(id: string, epoch: number, stored: StoredSession | undefined): Promise<void>;
  /**
   * Cluster mode: the session leaves this daemon (lease lost, given up or handed over):
   * queued sends fail with a retryable error for the new owner, the socket closes without
   * logging out. `lost`: the lease may be another daemon's already, so the stop is neither
   * persisted nor journaled (the new owner reports the session's state).
   */
  stopLeased(id: string, reason: string, options?: { lost?: boolean }): Promise<void>;
  /** Whether a session may move to another daemon now: nothing queued to send, not in the middle of a login. */
  isIdle(id: string): boolean;
}

const NOT_IDLE: ReadonlySet<string> = new Set(['CONNECTING', 'QR_REQUIRED']);

/** Creates the session registry. Sessions persisted earlier are known (stopped) until {@link SessionRegistry.startAll}. */
export function createSessionRegistry(deps: SessionRegistryDeps): LocalSessionRegistry {
  const { storage } = deps;
  const log = deps.logger.child({ module: 'sessions' });
  const now = deps.now ?? Date.now;
  const timeouts: OpTimeouts = { ...DEFAULT_OP_TIMEOUTS, ...deps.timeouts };
  const listeners = new Map<string, Set<Listener>>();
  const entries = new Map<string, Entry>();
  let startQueue: StartQueue | undefined;

  const emit: RegistryEmit = (event, ...args) => {
    for (const listener of [...(listeners.get(event) ?? [])]) {
      try {
        (listener as (...a: typeof args) => void)(...args);
      } catch (err) {
        log.error({ err, event }, 'a session registry listener threw');
      }
    }
  };

  function build(id: string, stored: StoredSession | undefined): Entry {
    const sessionLog = deps.logger.child({ sessionId: id });
    const groups = createGroupMetadataCache((meta) => toGroupInfo(meta, { phoneOfLid: (lid) => storage.auth.phoneOfLid(id, lid) }), deps.groupCache, now);
    const lease: Entry['lease'] = { epoch: undefined };
    const ownership = deps.ownership;
    const breaker = createCircuitBreaker({
      ...deps.circuit,
      now,
      onStateChange: (state) => sessionLog.warn({ circuit: state }, `circuit breaker ${state}`),
    });
    const supervisor = createSessionSupervisor({
      sessionId: id,
      socketFactory: deps.socketFactory,
      authStore: storage.auth,
      sessionStore: storage.sessions,
      journal: storage.journal,
      logger: sessionLog,
      emit,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(stored ? { stored } : {}),
      groups,
      onStatus: (status) => {
        if (status === 'CONNECTED') {
          breaker.reset();
          queue.resume();
        }
        // Notifications missed while away (or another account's groups) would leave the
        // cache stale: each group is fetched afresh on its next use.
        if (status === 'CONNECTED' || status === 'LOGGED_OUT') groups.clear();
        // Queued sends belong to the account that was logged out: never send them from the next one.
        if (status === 'LOGGED_OUT') {
          const abandoned = queue.abandonAll('the session was logged out');
          if (abandoned > 0) sessionLog.warn({ abandoned }, 'queued sends abandoned after logout');
        }
      },
      options: { ...deps.supervisor, now, ...(deps.socketOptions ? { socket: deps.socketOptions } : {}) },
    });
    const queue: OutboundQueue = createOutboundQueue({
      sessionId: id,
      outbox: storage.outbox,
      journal: storage.journal,
      socket: () => supervisor.connectedSocket(),
      breaker,
      trackSent: (messageId) => supervisor.trackSent(messageId),
      ...(ownership ? { leaseHeld: () => lease.epoch !== undefined && ownership.epochOf(id) === lease.epoch } : {}),
      logger: sessionLog.child({ module: 'outbound' }),
      ...(deps.pacing ? { pacing: deps.pacing } : {}),
      timeouts,
      now,
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.sendWaitMs === undefined ? {} : { waitMs: deps.sendWaitMs }),
      ...(deps.maxQueuedSends === undefined ? {} : { maxQueued: deps.maxQueuedSends }),
    });
    const entry = { supervisor, breaker, queue, groups, lease };
    entries.set(id, entry);
    return entry;
  }

  for (const stored of storage.sessions.list()) build(stored.id, stored);

  function entryOf(id: string): Entry {
    // Cluster mode: a session another daemon registered is known from the shared store.
    const stored = entries.has(id) || !deps.ownership ? undefined : storage.sessions.get(id);
    const entry = entries.get(id) ?? (stored ? build(id, stored) : undefined);
    if (!entry) throw new StickerbotError('SESSION_NOT_FOUND', `no session "${id}"`);
    return entry;
  }

  /** Cluster mode: takes the lease of a session this daemon does not hold, which starts it here. */
  async function claim(id: string, ownership: SessionOwnership): Promise<Session> {
    if (!(await ownership.claim(id))) {
      throw new StickerbotError('SESSION_NOT_CONNECTED', `session "${id}" is held by another daemon of the cluster`, { retryable: true });
    }
    return entryOf(id).supervisor.snapshot();
  }

  function connected(id: string): { entry: Entry; socket: WaSocket } {
    const entry = entryOf(id);
    const socket = entry.supervisor.connectedSocket();
    if (!socket) throw new StickerbotError('SESSION_NOT_CONNECTED', `session "${id}" is ${entry.supervisor.status}, not CONNECTED`);
    return { entry, socket };
  }

  /** The copy of `messageId` embedded in the journaled message `quotedBy`, if it quotes it. */
  async function quotedCopy(sessionId: string, messageId: string, quotedBy: string | undefined) {
    if (quotedBy === undefined) return undefined;
    const quoting = await storage.journal.findRawMessage(sessionId, quotedBy);
    return quoting ? quotedMessageOf(quoting, messageId) : undefined;
  }

  /** Runs one WhatsApp call through the session's breaker and a deadline, with typed errors. */
  function call<T>(entry: Entry, op: string, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return entry.breaker.run(() =>
      withTimeout(op, ms, work).catch((error: unknown) => {
        throw toSessionError(op, error);
      }),
    );
  }

  function register(id: string): Entry {
    const parsed = sessionIdSchema.safeParse(id);
    if (!parsed.success) throw new StickerbotError('INVALID_ARGS', `invalid session id "${id}": must match [a-z0-9_-]{1,64}`);
    if (entries.has(id) || (deps.ownership && storage.sessions.get(id))) throw new StickerbotError('SESSION_EXISTS', `session "${id}" already exists`);
    storage.sessions.save({ id, status: 'STOPPED', autostart: true, updatedAt: now() });
    log.info({ sessionId: id }, 'session registered');
    return build(id, storage.sessions.get(id));
  }

  const registry: LocalSessionRegistry = {
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return registry;
    },
    off(event, listener) {
      listeners.get(event)?.delete(listener);
      return registry;
    },

    groupCacheSizes: () => new Map([...entries].map(([id, entry]) => [id, entry.groups.size])),
    groupCacheBytes: () => new Map([...entries].map(([id, entry]) => [id, entry.groups.bytes])),
    list: () => [...entries.values()].map((e) => e.supervisor.snapshot()).sort((a, b) => a.id.localeCompare(b.id)),
    get: (id) => entries.get(id)?.supervisor.snapshot(),
    currentQr: (id) => entries.get(id)?.supervisor.currentQr(),

    // Baileys is loaded before the first session connects, not at start-up (storage/baileys-lib.ts).
    async create(id) {
      if (deps.ownership && !entries.has(id) && (await deps.ownership.known(id))) throw new StickerbotError('SESSION_EXISTS', `session "${id}" already exists`);
      const { supervisor } = register(id);
      await loadBaileys();
      if (deps.ownership) return claim(id, deps.ownership);
      return supervisor.start();
    },
    async start(id) {
      const { supervisor } = entryOf(id);
      await loadBaileys();
      if (deps.ownership && deps.ownership.epochOf(id) === undefined) return claim(id, deps.ownership);
      return supervisor.start();
    },
    async stop(id) {
      return entryOf(id).supervisor.stop();
    },
    async logout(id) {
      return entryOf(id).supervisor.logout();
    },
    async requestPairingCode(id, phone) {
      const { supervisor } = entryOf(id);
      await loadBaileys();
      return supervisor.requestPairingCode(phone);
    },

    async send(args, argsHash) {
      return entryOf(args.sessionId).queue.send(args, argsHash);
    },

    async downloadMedia(args) {
      const entry = entryOf(args.sessionId);
      const raw = (await storage.journal.findRawMessage(args.sessionId, args.messageId)) ?? (await quotedCopy(args.sessionId, args.messageId, args.quotedBy));
      if (!raw) throw new StickerbotError('MESSAGE_NOT_FOUND', `no journaled message ${args.messageId} in session "${args.sessionId}"`);
      const media = mapMessage(raw, false)?.media;
      if (!media) throw new StickerbotError('INVALID_ARGS', `message ${args.messageId} has no media`);
      if (media.size > deps.maxMediaBytes) {
        throw new StickerbotError('MEDIA_TOO_LARGE', `the media of ${args.messageId} declares ${media.size} bytes, over the ${deps.maxMediaBytes}-byte cap`);
      }
      const { socket } = connected(args.sessionId);
      const data = await call(entry, 'media download', timeouts.downloadMs, (signal) => socket.downloadMedia(raw, { signal }));
      if (data.byteLength > deps.maxMediaBytes) {
        throw new StickerbotError('MEDIA_TOO_LARGE', `the media of ${args.messageId} is ${data.byteLength} bytes, over the ${deps.maxMediaBytes}-byte cap`);
      }
      if (data.byteLength === 0) throw new StickerbotError('INTERNAL', `the media of ${args.messageId} downloaded empty`, { retryable: true });
      const bytes = data.buffer instanceof ArrayBuffer ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
      return { data: bytes, mimetype: media.mimetype, size: bytes.byteLength };
    },

    async readMessages(args) {
      const { entry, socket } = connected(args.sessionId);
      const keys = await Promise.all(
        args.messageIds.map(async (id) => (await storage.journal.findRawMessage(args.sessionId, id))?.key ?? { remoteJid: args.chat, id, fromMe: false }),
      );
      await call(entry, 'read receipts', timeouts.sendMs, () => socket.readMessages(keys));
      return { count: keys.length };
    },

    async sendPresence(args) {
      if (PRESENCES_NEEDING_CHAT.has(args.presence) && !args.chat) {
        throw new StickerbotError('INVALID_ARGS', `presence ${args.presence} needs a chat`);
      }
      const { entry, socket } = connected(args.sessionId);
      await call(entry, 'presence', timeouts.sendMs, () => socket.sendPresenceUpdate(args.presence, args.chat));
      return {};
    },

    async lookupContacts(args) {
      const { entry, socket } = connected(args.sessionId);
      const found = (await call(entry, 'number lookup', timeouts.lookupMs, () => socket.onWhatsApp(...args.phones))) ?? [];
      return {
        contacts: args.phones.map((phone) => {
          const hit = found.find((r) => r.exists && digits(r.jid) === phone);
          return hit ? { phone, exists: true, jid: normalizeJid(hit.jid) } : { phone, exists: false };
        }),
      };
    },

    async groupMetadata(args): Promise<WorkerCommandResult<'group:metadata'>> {
      const { entry, socket } = connected(args.sessionId);
      return entry.groups.get(args.chat, () => call(entry, 'group metadata', timeouts.lookupMs, () => socket.groupMetadata(args.chat)));
    },

    async startAll(bootSessions) {
      for (const id of bootSessions) if (!entries.has(id)) register(id);
      startQueue?.close();
      const queue = createStartQueue(deps.start, deps.random);
      startQueue = queue;
      const queued: string[] = [];
      // Every session is queued (visible as CONNECTING with `queuedAt`) before the first
      // connects, so the dashboard shows the whole queue from the start.
      for (const [id, entry] of entries) {
        const stored = storage.sessions.get(id);
        if ((bootSessions.includes(id) || stored?.autostart) && entry.supervisor.enqueue()) queued.push(id);
      }
      if (queued.length > 0) await loadBaileys();
      const slotMs = deps.start?.slotTimeoutMs;
      for (const id of queued) {
        const { supervisor } = entryOf(id);
        queue.add(() => (supervisor.startQueued() ? supervisor.settled(slotMs ?? DEFAULT_START_QUEUE.slotTimeoutMs) : undefined));
      }
      log.info({ sessions: queued, connecting: queue.running, waiting: queue.waiting }, 'sessions starting');
    },

    async stopAll() {
      startQueue?.close();
      await Promise.all(
        [...entries.values()].map(async ({ supervisor, queue }) => {
          queue.close();
          // Cluster mode: a session this daemon does not run is another daemon's; a stop here
          // would journal and persist a STOPPED that is not true.
          if (deps.ownership && supervisor.status === 'STOPPED') return;
          await supervisor.stop({ keepAutostart: true });
        }),
      );
    },

    registerAll(ids) {
      for (const id of ids) if (!entries.has(id) && !storage.sessions.get(id)) register(id);
    },

    async startLeased(id, epoch, stored) {
      await loadBaileys();
      let entry = entries.get(id);
      // The record as the previous owner left it (account, status) replaces what this daemon
      // knew from earlier; a session running here keeps its supervisor.
      if (!entry || entry.supervisor.status === 'STOPPED' || entry.supervisor.status === 'ERROR') entry = build(id, stored ?? storage.sessions.get(id));
      entry.lease.epoch = epoch;
      await entry.supervisor.start();
    },

    async stopLeased(id, reason, options = {}) {
      const entry = entries.get(id);
      if (!entry) return;
      entry.lease.epoch = undefined;
      const handed = entry.queue.handOver(reason);
      if (handed > 0) log.warn({ sessionId: id, handed, reason }, 'queued sends handed over to the next owner');
      await entry.supervisor.stop({ keepAutostart: true, quiet: options.lost === true });
    },

    isIdle(id) {
      const entry = entries.get(id);
      return !entry || (entry.queue.size === 0 && !NOT_IDLE.has(entry.supervisor.status));
    },
  };
  return registry;
}

/** Registry events, re-exported for the composition root's listeners. */
export type { SessionRegistryEvents };
