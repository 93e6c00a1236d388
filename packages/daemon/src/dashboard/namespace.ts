/**
 * The `/dashboard` namespace: token (later JWT) authentication, the caller's session list
 * on connect, per-session rooms, registry events relayed to the session's room only, and
 * the session admin commands of the {@link DashboardCommandTable}.
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
}

/** Wires the `/dashboard` namespace; returns a function that detaches it from the registry. */
export function attachDashboardNamespace(deps: DashboardNamespaceDeps): { detach(): void } {
  const { namespace, registry, executor, commands } = deps;
  const log = deps.logger.child({ module: 'dashboard-namespace' });

  function visibleSessions(principal: Principal): Session[] {
    return registry.list().filter((session) => canSeeSession(principal, session.id));
  }

  function announceSessions(): void {
    for (const socket of namespace.sockets.values()) {
      socket.emit('session:listed', { sessions: visibleSessions(socket.data.principal) });
    }
  }

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
    socket.emit('session:listed', { sessions: visibleSessions(principal) });

    const context: DashboardCommandContext = {
      principal,
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
  // skipped here: with no dashboard open, a message costs the bridge nothing.
  const room = (sessionId: string): ReturnType<DashboardNamespace['to']> | undefined => {
    const name = sessionRoom(sessionId);
    return (namespace.adapter.rooms.get(name)?.size ?? 0) > 0 ? namespace.to(name) : undefined;
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
    detach() {
      registry.off('session:changed', onChanged);
      registry.off('session:qr', onQr);
      registry.off('session:error', onError);
      registry.off('message:received', onMessage);
    },
  };
}
