/**
 * The `/worker` namespace: handshake (token, protocol version, group, position), delivery
 * of the journal (by default the SQLite journal's replay then live; in cluster mode the
 * Redis journal's, see `worker-delivery.ts`), cumulative `event:ack`, and every worker
 * command from the {@link WorkerCommandTable} through the command executor.
 */
import {
  DEFAULT_GROUP,
  MAX_DELIVERY_BATCH,
  StickerbotError,
  checkProtocolVersion,
  eventAckSchema,
  fail,
  workerAuthSchema,
  type JournalEntry,
  type WireError,
  type WorkerClientToServerEvents,
  type WorkerServerToClientEvents,
} from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { DefaultEventsMap, Namespace, Socket } from 'socket.io';
import { HandshakeRefusal } from './auth.js';
import { bindCommands } from './command-binding.js';
import type { CommandExecutor } from './command-executor.js';
import type { DeliveryTarget } from './journal-delivery.js';
import type { SessionRegistry } from '../session-registry.js';
import type { Journal } from '../storage/index.js';
import type { WorkerCommandTable } from './worker-commands.js';
import { createSqliteDeliveryFactory, type WorkerDelivery, type WorkerDeliveryFactory } from './worker-delivery.js';

/** What the daemon keeps on each worker socket. */
export interface WorkerSocketData {
  group: string;
  delivery: WorkerDelivery;
}

/** The typed `/worker` namespace. */
export type WorkerNamespace = Namespace<WorkerClientToServerEvents, WorkerServerToClientEvents, DefaultEventsMap, WorkerSocketData>;
type WorkerSocket = Socket<WorkerClientToServerEvents, WorkerServerToClientEvents, DefaultEventsMap, WorkerSocketData>;

/** What the worker namespace reports (Prometheus counters in production). */
export interface WorkerNamespaceMetrics {
  eventsDelivered(count: number, group: string): void;
  acked(group: string, position: number): void;
}

/** Collaborators of {@link attachWorkerNamespace}. */
export interface WorkerNamespaceDeps {
  namespace: WorkerNamespace;
  registry: SessionRegistry;
  journal: Journal;
  executor: CommandExecutor;
  commands: WorkerCommandTable;
  /** Constant-time check of a presented bridge token. */
  verifyToken: (presented: string) => boolean;
  logger: Logger;
  metrics?: WorkerNamespaceMetrics;
  /** Entries read from the journal per replay batch and sent per packet (default `MAX_DELIVERY_BATCH`). */
  replayBatchSize?: number;
  /** Live entries held in memory while a socket is momentarily writing (default 1,000). */
  liveWindow?: number;
  /** Most entries out to one worker connection and not yet acknowledged by it (default 1,000). */
  maxUnacked?: number;
  /**
   * Where each connection's entries come from (default: the SQLite `journal` above, replay
   * then live). Cluster mode passes the Redis journal's (`createConsumerDeliveryFactory`).
   */
  delivery?: WorkerDeliveryFactory;
}

/** Checks a worker handshake's `auth`; returns the refusal, or the group and requested position. */
export function checkWorkerHandshake(
  auth: unknown,
  verifyToken: (presented: string) => boolean,
): { ok: true; group: string; position: number | undefined } | { ok: false; error: WireError } {
  const token = typeof auth === 'object' && auth !== null && 'token' in auth ? auth.token : undefined;
  if (typeof token !== 'string' || token === '') {
    return { ok: false, error: new StickerbotError('UNAUTHORIZED', 'No token in the handshake: pass auth.token').toWire() };
  }
  if (!verifyToken(token)) return { ok: false, error: new StickerbotError('UNAUTHORIZED', 'Wrong token').toWire() };
  const version = checkProtocolVersion((auth as { protocol?: unknown }).protocol);
  if (!version.ok) return { ok: false, error: version.error };
  const parsed = workerAuthSchema.safeParse(auth);
  if (!parsed.success) return { ok: false, error: fail(parsed.error).error };
  return { ok: true, group: parsed.data.group ?? DEFAULT_GROUP, position: parsed.data.position };
}

function socketTarget(socket: WorkerSocket): DeliveryTarget {
  return {
    send: (entries) => socket.emit('events:journaled', entries),
    get open() {
      return socket.connected;
    },
    get congested() {
      return !socket.conn.transport.writable;
    },
    drained() {
      const transport = socket.conn.transport;
      if (transport.writable || !socket.connected) return new Promise((resolve) => setImmediate(resolve));
      return new Promise((resolve) => {
        const done = (): void => {
          transport.off('drain', done);
          transport.off('close', done);
          socket.off('disconnect', done);
          resolve();
        };
        transport.on('drain', done);
        transport.on('close', done);
        socket.on('disconnect', done);
      });
    },
  };
}

/**
 * Entries a worker may hold unacknowledged (flow control, see journal-delivery.ts): a
 * worker acknowledges every 50 handled entries or 250 ms, so this never slows one that
 * keeps up, and one replaying a long backlog holds at most this many in memory.
 */
export const DEFAULT_MAX_UNACKED = 1_000;

/** Wires the `/worker` namespace; returns a function that detaches it from the registry. */
export function attachWorkerNamespace(deps: WorkerNamespaceDeps): { detach(): void } {
  const { namespace, journal, executor, commands, logger } = deps;
  const log = logger.child({ module: 'worker-namespace' });
  const batchSize = Math.min(deps.replayBatchSize ?? MAX_DELIVERY_BATCH, MAX_DELIVERY_BATCH);

  const createDelivery = deps.delivery ?? createSqliteDeliveryFactory(journal);

  namespace.use((socket, next) => {
    const verdict = checkWorkerHandshake(socket.handshake.auth, deps.verifyToken);
    if (!verdict.ok) {
      log.warn({ address: socket.handshake.address, code: verdict.error.code, reason: verdict.error.message }, 'worker handshake refused');
      next(new HandshakeRefusal(verdict.error));
      return;
    }
    const { group } = verdict;
    const refuse = (err: unknown): void => {
      if (!(err instanceof StickerbotError)) log.error({ err, group }, 'worker delivery could not start');
      const error = err instanceof StickerbotError ? err : new StickerbotError('SHUTTING_DOWN', 'The journal is not available; retry shortly');
      next(new HandshakeRefusal(error.toWire()));
    };
    const accept = (delivery: WorkerDelivery): void => {
      // A handshake the client gave up on while the delivery was being made never connects.
      if (socket.conn.readyState !== 'open') {
        delivery.stop();
        return;
      }
      socket.data.group = group;
      socket.data.delivery = delivery;
      next();
    };
    let made: WorkerDelivery | Promise<WorkerDelivery>;
    try {
      made = createDelivery({
        group,
        position: verdict.position,
        socketId: socket.id,
        target: socketTarget(socket),
        batchSize,
        liveWindow: deps.liveWindow ?? 1_000,
        maxUnacked: deps.maxUnacked ?? DEFAULT_MAX_UNACKED,
        logger: log.child({ socket: socket.id, group }),
        onSent: (count) => deps.metrics?.eventsDelivered(count, group),
        onAcked: (position) => deps.metrics?.acked(group, position),
        onError: () => socket.disconnect(true),
      });
    } catch (err) {
      refuse(err);
      return;
    }
    // The single-host delivery is made synchronously: no await between the journal read and the connection.
    if (made instanceof Promise) made.then(accept, refuse);
    else accept(made);
  });

  namespace.on('connection', (socket) => {
    const { group, delivery } = socket.data;
    const socketLog = log.child({ socket: socket.id, group });
    socketLog.info({ after: delivery.cursor, address: socket.handshake.address }, 'worker connected');
    delivery.start();

    socket.on('event:ack', (raw: unknown) => {
      const parsed = eventAckSchema.safeParse(raw);
      if (!parsed.success) {
        socketLog.warn({ reason: fail(parsed.error).error.message }, 'malformed event:ack ignored');
        return;
      }
      delivery.acknowledge(parsed.data.position);
    });

    bindCommands({ socket, commands, executor, context: undefined, otherEvents: ['event:ack'], logger: socketLog });

    socket.on('disconnect', (reason) => {
      delivery.stop();
      socketLog.info({ reason, delivered: delivery.cursor }, 'worker disconnected');
    });
  });

  const onJournaled = (entry: JournalEntry): void => {
    for (const socket of namespace.sockets.values()) socket.data.delivery.offer(entry);
  };
  deps.registry.on('journaled', onJournaled);
  return {
    detach() {
      deps.registry.off('journaled', onJournaled);
    },
  };
}
