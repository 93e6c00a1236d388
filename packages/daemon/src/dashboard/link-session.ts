/**
 * Links a session of a running daemon from a shell (`pnpm link:session`): a `/dashboard`
 * client with the admin token, as the dashboard page is. It subscribes to the session,
 * starts it if it is stopped, then prints the QR (again on every rotation) or asks for a
 * pairing code, and returns once the session is linked or cannot be. The answer is an
 * exit code of {@link LINK_EXIT}.
 */
import {
  DASHBOARD_NAMESPACE,
  PROTOCOL_VERSION,
  type DashboardClientToServerEvents,
  type DashboardCommandArgs,
  type DashboardCommandName,
  type DashboardCommandResult,
  type DashboardServerToClientEvents,
  type Result,
  type Session,
  type SessionQr,
  type WireError,
} from '@stickerbot/protocol';
import { io, type Socket } from 'socket.io-client';
import { LINK_EXIT, type LinkRequest } from './link-request.js';
import { renderQrText } from '../qr-output.js';

/** What {@link linkSession} needs. */
export interface LinkSessionOptions {
  /** The daemon's base URL, `http://127.0.0.1:7420`. */
  readonly url: string;
  readonly token: string;
  readonly request: LinkRequest;
  /** Normal output: the QR, the pairing code, "linked as". */
  readonly out: (text: string) => void;
  /** Problems. */
  readonly err: (text: string) => void;
  /** How long connecting and each command may take (default 60 s: a pairing code waits for WhatsApp). */
  readonly timeoutMs?: number;
}

type DashboardSocket = Socket<DashboardServerToClientEvents, DashboardClientToServerEvents>;

/** Where a link attempt cannot go on: the session stopped or lost its account. */
const DEAD_ENDS: ReadonlySet<Session['status']> = new Set(['STOPPED', 'LOGGED_OUT', 'ERROR']);

class LinkFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

function linkedAs(session: Session): string {
  const phone = session.account?.phone ?? session.account?.jid.split(/[:@]/)[0];
  return phone ? `+${phone}` : 'an unknown account';
}

function formatCode(code: string): string {
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

function connect(options: LinkSessionOptions, timeoutMs: number): Promise<{ socket: DashboardSocket; known: () => readonly string[] }> {
  const socket: DashboardSocket = io(`${options.url}${DASHBOARD_NAMESPACE}`, {
    auth: { token: options.token, protocol: PROTOCOL_VERSION },
    transports: ['websocket'],
    reconnection: false,
    timeout: timeoutMs,
  });
  // Sent right after the handshake: listen before it completes.
  let known: readonly string[] = [];
  socket.on('session:listed', ({ sessions }) => void (known = sessions.map((s) => s.id)));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, known: () => known }));
    socket.once('connect_error', (error: Error & { data?: Partial<WireError> }) => {
      socket.close();
      const code = error.data?.code;
      if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') {
        reject(new LinkFailure(LINK_EXIT.unauthorized, `the daemon at ${options.url} refused the token: ${error.data?.message ?? error.message}`));
      } else if (code !== undefined) {
        reject(new LinkFailure(LINK_EXIT.failed, `the daemon at ${options.url} refused the connection: ${code} ${error.data?.message ?? ''}`));
      } else {
        reject(
          new LinkFailure(
            LINK_EXIT.unreachable,
            `no daemon answers at ${options.url} (${error.message}): is it running (pnpm exec pm2 status) and is this its address (STICKERBOT_BRIDGE_URL or STICKERBOT_HOST/STICKERBOT_PORT)?`,
          ),
        );
      }
    });
  });
}

/** Runs the link; resolves with the process exit code, after printing any problem with `err`. */
export async function linkSession(options: LinkSessionOptions): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const { sessionId, phone } = options.request;
  let socket: DashboardSocket | undefined;
  try {
    const connection = await connect(options, timeoutMs);
    socket = connection.socket;
    const live = socket;

    async function command<N extends DashboardCommandName>(name: N, args: DashboardCommandArgs<N>): Promise<Result<DashboardCommandResult<N>>> {
      // The typed event map cannot follow a generic command name: emit through a plain signature.
      const emitter = live.timeout(timeoutMs) as unknown as { emitWithAck(event: string, payload: unknown): Promise<Result<DashboardCommandResult<N>>> };
      try {
        return await emitter.emitWithAck(name, args);
      } catch (error) {
        throw new LinkFailure(LINK_EXIT.failed, `${name}: the daemon did not answer within ${timeoutMs} ms (${String(error)})`);
      }
    }
    function refused(name: string, error: WireError): LinkFailure {
      const exitCode = error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN' ? LINK_EXIT.unauthorized : LINK_EXIT.failed;
      return new LinkFailure(exitCode, `${name} refused: ${error.code} ${error.message}`);
    }

    const outcome = new Promise<number>((resolve, reject) => {
      live.on('session:changed', (session) => {
        if (session.id !== sessionId) return;
        if (session.status === 'CONNECTED') {
          options.out(`Session "${sessionId}" is linked as ${linkedAs(session)}.\n`);
          resolve(LINK_EXIT.linked);
        } else if (DEAD_ENDS.has(session.status)) {
          const why = session.lastError ? `: ${session.lastError.code} ${session.lastError.message}` : '';
          reject(new LinkFailure(LINK_EXIT.failed, `session "${sessionId}" is ${session.status}${why}`));
        }
      });
      live.on('disconnect', (reason) => reject(new LinkFailure(LINK_EXIT.failed, `the daemon closed the connection (${reason})`)));
    });
    // It may reject while the commands below run, before anything awaits it.
    outcome.catch(() => undefined);

    let lastPrinted: string | undefined;
    const printQr = (qr: SessionQr): void => {
      // The subscribe answer and a `session:qr` right after it may carry the same QR.
      if (qr.sessionId !== sessionId || phone !== undefined || qr.qr === lastPrinted) return;
      lastPrinted = qr.qr;
      const until = new Date(qr.expiresAt).toISOString().slice(11, 19);
      options.out(`\nScan with WhatsApp > Linked devices > Link a device (session "${sessionId}", valid until ${until} UTC; a new one follows):\n${renderQrText(qr.qr)}\n`);
    };
    live.on('session:qr', printQr);

    let subscribed = await command('session:subscribe', { sessionId });
    if (!subscribed.ok && subscribed.error.code === 'SESSION_NOT_FOUND' && options.request.create) {
      const created = await command('session:create', { sessionId });
      if (!created.ok) throw refused('session:create', created.error);
      options.out(`Created session "${sessionId}".\n`);
      subscribed = await command('session:subscribe', { sessionId });
    }
    if (!subscribed.ok) {
      if (subscribed.error.code === 'SESSION_NOT_FOUND') {
        const list = connection.known().length > 0 ? connection.known().join(', ') : 'none';
        throw new LinkFailure(LINK_EXIT.unknownSession, `the daemon has no session "${sessionId}" (it has: ${list}); add --create to register it`);
      }
      throw refused('session:subscribe', subscribed.error);
    }
    const session = subscribed.result.session;
    if (session.status === 'CONNECTED') {
      options.out(`Session "${sessionId}" is already linked as ${linkedAs(session)}; to link another phone, log it out first (dashboard).\n`);
      return LINK_EXIT.linked;
    }

    if (phone !== undefined) {
      // session:pair starts a stopped session itself and waits for WhatsApp to be ready.
      const paired = await command('session:pair', { sessionId, phone });
      if (!paired.ok) throw refused('session:pair', paired.error);
      options.out(
        `Pairing code for session "${sessionId}": ${formatCode(paired.result.code)}\n` +
          `On the phone +${phone}: WhatsApp > Linked devices > Link a device > Link with phone number instead, and type the code.\n`,
      );
    } else {
      if (DEAD_ENDS.has(session.status)) {
        const started = await command('session:start', { sessionId });
        if (!started.ok) throw refused('session:start', started.error);
      }
      if (subscribed.result.qr) printQr(subscribed.result.qr);
      else options.out(`Waiting for session "${sessionId}" to show a QR…\n`);
    }
    return await outcome;
  } catch (error) {
    if (!(error instanceof LinkFailure)) throw error;
    options.err(`pnpm link:session: ${error.message}\n`);
    return error.exitCode;
  } finally {
    socket?.close();
  }
}
