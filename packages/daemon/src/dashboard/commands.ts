/**
 * The `/dashboard` commands, one table: op → spec with the caller's {@link Principal} as
 * context. Subscriptions join the session's room on the caller's socket; the rest call the
 * session registry. Every command checks the principal first.
 */
import { DASHBOARD_COMMANDS, StickerbotError, type DashboardCommandName, type MessageSummary } from '@stickerbot/protocol';
import { canRunDashboardCommand, type Principal } from '../bridge/auth.js';
import { defineCommand, type CommandHandler, type CommandTable } from '../bridge/command-binding.js';
import type { SessionRegistry } from '../session-registry.js';

/** What a dashboard command knows about its caller. */
export interface DashboardCommandContext {
  principal: Principal;
  /** The caller's socket id (cluster mode: a command run at another daemon reaches the socket through the adapter). */
  socketId: string;
  /** Joins the room of a session on the caller's socket and sends it the session's current QR, if any. */
  subscribe(sessionId: string): void;
  unsubscribe(sessionId: string): void;
  /** Tells every dashboard its (possibly changed) list of sessions. */
  announceSessions(): void;
}

/** Every dashboard command's spec, keyed by op. */
export type DashboardCommandTable = CommandTable<typeof DASHBOARD_COMMANDS, DashboardCommandContext>;

/** The room that receives one session's events. */
export function sessionRoom(sessionId: string): string {
  return `session:${sessionId}`;
}

function spec<N extends DashboardCommandName>(op: N, run: CommandHandler<typeof DASHBOARD_COMMANDS, N, DashboardCommandContext>) {
  // Dashboard commands carry no id: an operator clicking twice acts twice, as they meant.
  return defineCommand(DASHBOARD_COMMANDS, op, { record: false }, (args, context: DashboardCommandContext, argsHash) => {
    // The connection is cut when the token expires; this covers a command already in flight.
    const { expiresAt } = context.principal;
    if (expiresAt !== undefined && Date.now() >= expiresAt) throw new StickerbotError('UNAUTHORIZED', 'Your sign-in token has expired');
    if (!canRunDashboardCommand(context.principal, op, args.sessionId)) {
      throw new StickerbotError('FORBIDDEN', `${op} on session ${args.sessionId} is not allowed for ${context.principal.subject}`);
    }
    return run(args, context, argsHash);
  });
}

/** Builds the table of dashboard commands; `recentMessages` feeds the subscribe answer's last messages. */
export function createDashboardCommandTable(
  registry: SessionRegistry,
  recentMessages?: (sessionId: string) => MessageSummary[],
): DashboardCommandTable {
  function known(sessionId: string) {
    const session = registry.get(sessionId);
    if (session === undefined) throw new StickerbotError('SESSION_NOT_FOUND', `no session ${sessionId}`);
    return session;
  }
  return {
    'session:subscribe': spec('session:subscribe', ({ sessionId }, context) => {
      const session = known(sessionId);
      context.subscribe(sessionId);
      return { session, qr: registry.currentQr?.(sessionId), messages: recentMessages?.(sessionId) };
    }),
    'session:unsubscribe': spec('session:unsubscribe', ({ sessionId }, context) => {
      context.unsubscribe(sessionId);
      return {};
    }),
    'session:create': spec('session:create', async ({ sessionId }, context) => {
      const session = await registry.create(sessionId);
      context.announceSessions();
      return { session };
    }),
    'session:start': spec('session:start', async ({ sessionId }) => ({ session: await registry.start(sessionId) })),
    'session:stop': spec('session:stop', async ({ sessionId }) => ({ session: await registry.stop(sessionId) })),
    'session:logout': spec('session:logout', async ({ sessionId }) => ({ session: await registry.logout(sessionId) })),
    'session:pair': spec('session:pair', async ({ sessionId, phone }) => ({ code: await registry.requestPairingCode(sessionId, phone) })),
  };
}
