/**
 * The `/dashboard` namespace: token (later JWT) authentication, the caller's session list
 * on connect, per-session rooms, registry events relayed to the session's room only, and
 * the session admin commands of the {@link DashboardCommandTable}.
 *
 * In cluster mode the namespace runs on the Socket.IO Redis Streams adapter: a room spans
 * the daemons, so a session's events, emitted by the daemon that owns it, reach the
 * dashboards subscribed at any daemon; the list on connect is the cluster's. A command run at
 * the owner for a dashboard connected elsewhere gets a context rebuilt from the caller's
 * principal and socket id ({@link DashboardContextCodec}): its subscription joins that socket
 * to the room through the adapter.
 */
import {
  StickerbotError,
  checkProtocolVersion,
  dashboardAuthSchema,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
  type MessageSummary,
  type Session,
  type SessionErrorPayload,
  type SessionQr,
} from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { DefaultEventsMap, Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import { HandshakeRefusal, canSeeSession, type DashboardAuthenticator, type Principal } from '../bridge/auth.js';
import { bindCommands } from '../bridge/command-binding.js';
import type { CommandExecutor } from '../bridge/command-executor.js';
import { sessionRoom, type DashboardCommandContext, type DashboardCommandTable } from './commands.js';
import type { SessionRegistry } from '../session-registry.js';

/** What the daemon keeps on each dashboard socket. */
export interface DashboardSocketData {
  principal: Principal;
}

/** The typed `/dashboard` namespace. */
export type DashboardNamespace = Namespace<
  DashboardClientToServerEvents,
  DashboardServerToClientEvents,
  DefaultEventsMap,
  DashboardSocketData
>;
type DashboardSocket = Socket<DashboardClientToServerEvents, DashboardServerToClientEvents, DefaultEventsMap, DashboardSocketData>;

/** Collaborators of {@link attachDashboardNamespace}. */
export interface DashboardNamespaceDeps {
  namespace: DashboardNamespace;
  registry: SessionRegistry;
  executor: CommandExecutor;
  commands: DashboardCommandTable;
  authenticator: DashboardAuthenticator;
  logger: Logger;
  /**
   * Cluster mode: every session of the cluster (the Redis registry of sessions, this daemon's
   * live ones over it), for the list a dashboard gets. Given, the namespace also treats rooms
   * as spanning the daemons (its adapter is the cluster's).
   */
  clusterSessions?: () => Promise<Session[]>;
}

/** A dashboard command's context as JSON, and back at the daemon that runs it (cluster/command-forwarding.ts). */
export interface DashboardContextCodec {
  encode: (context: DashboardCommandContext) => unknown;
  decode: (encoded: unknown) => DashboardCommandContext;
}

/** The wired namespace. */
export interface AttachedDashboardNamespace {
  /** Detaches it from the registry. */
  detach(): void;
  readonly contexts: DashboardContextCodec;
}

const encodedContextSchema = z.object({
  socketId: z.string().min(1),
  principal: z.object({
    subject: z.string(),
    role: z.enum(['admin', 'operator', 'viewer']),
    sessions: z.union([z.literal('all'), z.array(z.string())]),
    expiresAt: z.number().optional(),
  }),
});

// Another daemon asks this one to tell its dashboards their lists again (a session was created there).
const ANNOUNCE = 'stickerbot:sessions-changed';

/** Wires the `/dashboard` namespace. */
export function attachDashboardNamespace(deps: DashboardNamespaceDeps): AttachedDashboardNamespace {
  const { namespace, registry, executor, commands, clusterSessions } = deps;
  const log = deps.logger.child({ module: 'dashboard-namespace' });

  function visible(principal: Principal, sessions: readonly Session[]): Session[] {
    return sessions.filter((session) => canSeeSession(principal, session.id));
  }

  function sendList(socket: DashboardSocket): void {
    const { principal } = socket.data;
    // One daemon answers at once, so the list stays the first thing a new dashboard gets.
    if (!clusterSessions) return void socket.emit('session:listed', { sessions: visible(principal, registry.list()) });
    clusterSessions()
      .catch((err: unknown) => {
        log.warn({ err }, "could not read the cluster's sessions; listing this daemon's");
        return registry.list();
      })
      .then((sessions) => socket.emit('session:listed', { sessions: visible(principal, sessions) }), (err: unknown) => log.error({ err }, 'could not list sessions'));
  }

  function announceLocally(): void {
    for (const socket of namespace.sockets.values()) sendList(socket);
  }

  function announceSessions(): void {
    announceLocally();
    if (clusterSessions) namespace.serverSideEmit(ANNOUNCE);
  }
  if (clusterSessions) namespace.on(ANNOUNCE, announceLocally);

  const contexts: DashboardContextCodec = {
    encode: ({ principal, socketId }) => ({
      socketId,
      principal: { ...principal, sessions: principal.sessions === 'all' ? 'all' : [...principal.sessions] },
    }),
    decode: (encoded) => {
      const { socketId, principal } = encodedContextSchema.parse(encoded);
      const { expiresAt, ...rest } = principal;
      return {
        principal: { ...rest, sessions: principal.sessions === 'all' ? 'all' : new Set(principal.sessions), ...(expiresAt === undefined ? {} : { expiresAt }) },
        socketId,
        // The caller's socket is on another daemon: the adapter carries the join and the QR to it.
        subscribe: (sessionId) => {
          namespace.in(socketId).socketsJoin(sessionRoom(sessionId));
          const qr = registry.currentQr?.(sessionId);
          if (qr !== undefined) namespace.to(socketId).emit('session:qr', qr);
        },
        unsubscribe: (sessionId) => namespace.in(socketId).socketsLeave(sessionRoom(sessionId)),
        announceSessions,
      };
    },
  };

  namespace.use((socket, next) => {
    const refuse = (error: StickerbotError): void => {
      log.warn({ address: socket.handshake.address, code: error.code }, 'dashboard handshake refused');
      next(new HandshakeRefusal(error.toWire()));
    };
    const parsed = dashboardAuthSchema.safeParse(socket.handshake.auth);
    if (!parsed.success) {
      refuse(new StickerbotError('UNAUTHORIZED', 'No token in the handshake: pass auth.token'));
      return;
    }
    Promise.resolve(deps.authenticator.authenticate(parsed.data.token))
      .then((principal) => {
        if (principal === undefined) return refuse(new StickerbotError('UNAUTHORIZED', 'Wrong or expired token'));
        if (parsed.data.protocol !== undefined) {
          const version = checkProtocolVersion(parsed.data.protocol);
          if (!version.ok) return refuse(new StickerbotError('PROTOCOL_MISMATCH', version.error.message));
        }
        socket.data.principal = principal;
        next();
      })
      .catch((err: unknown) => {
        // An authenticator that knows why a token is bad (expired, forged) says so to the page.
        if (err instanceof StickerbotError && err.code === 'UNAUTHORIZED') return refuse(err);
        log.error({ err }, 'dashboard authentication failed');
        refuse(new StickerbotError('INTERNAL', 'Authentication failed'));
      });
  });

  namespace.on('connection', (socket: DashboardSocket) => {
    const { principal } = socket.data;
    const socketLog = log.child({ socket: socket.id, subject: principal.subject });
    socketLog.info({ role: principal.role }, 'dashboard connected');
    sendList(socket);

    const context: DashboardCommandContext = {
      principal,
      socketId: socket.id,
      subscribe: (sessionId) => {
        void socket.join(sessionRoom(sessionId));
        // A QR shown before this subscription would otherwise only arrive at its next rotation.
        const qr = registry.currentQr?.(sessionId);
        if (qr !== undefined) socket.emit('session:qr', qr);
      },
      unsubscribe: (sessionId) => void socket.leave(sessionRoom(sessionId)),
      announceSessions,
    };
    bindCommands({ socket, commands, executor, context, logger: socketLog });
    socket.on('disconnect', (reason) => socketLog.info({ reason }, 'dashboard disconnected'));
  });

  // Registry events go to the session's room only: a dashboard sees what it subscribed to.
  // Socket.IO encodes a broadcast before it looks at the room, so a room nobody watches is
  // skipped here: with no dashboard open, a message costs the bridge nothing. In a cluster the
  // room's members may be at other daemons, which only the adapter knows: always broadcast.
  const room = (sessionId: string): ReturnType<DashboardNamespace['to']> | undefined => {
    const name = sessionRoom(sessionId);
    return clusterSessions || (namespace.adapter.rooms.get(name)?.size ?? 0) > 0 ? namespace.to(name) : undefined;
  };
  const onChanged = (session: Session): void => void room(session.id)?.emit('session:changed', session);
  const onQr = (qr: SessionQr): void => void room(qr.sessionId)?.emit('session:qr', qr);
  const onError = (payload: SessionErrorPayload): void => void room(payload.sessionId)?.emit('session:error', payload);
  const onMessage = (summary: MessageSummary): void => void room(summary.sessionId)?.emit('message:received', summary);
  registry.on('session:changed', onChanged);
  registry.on('session:qr', onQr);
  registry.on('session:error', onError);
  registry.on('message:received', onMessage);
  return {
    contexts,
    detach() {
      if (clusterSessions) namespace.off(ANNOUNCE, announceLocally);
      registry.off('session:changed', onChanged);
      registry.off('session:qr', onQr);
      registry.off('session:error', onError);
      registry.off('message:received', onMessage);
    },
  };
}
