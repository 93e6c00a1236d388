import {
  PROTOCOL_VERSION,
  StickerbotError,
  WORKER_COMMANDS,
  WORKER_NAMESPACE,
  fromWireError,
  isWireError,
  resultSchema,
  type WorkerAuth,
  type WorkerClientToServerEvents,
  type WorkerCommandArgs,
  type WorkerCommandName,
  type WorkerCommandResult,
  type WorkerServerToClientEvents,
} from '@stickerbot/protocol';
import { createBackoff, type BackoffOptions } from '@stickerbot/runtime';
import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import type { ProgressStore } from '../db/progress-store.js';
import { createEventPump, type EntryHandler, type StopOutcome } from './event-pump.js';

/** Per-call options of {@link CommandSender.command}. */
export interface CommandOptions {
  /** How long one attempt waits for the daemon's answer, in ms (default per command). */
  timeoutMs?: number;
  /** How many times a retryable failure is retried with the same id (default 2). */
  retries?: number;
}

/** The typed command client: `await bridge.command('message:send', args)`. */
export interface CommandSender {
  /**
   * Sends worker command `name` and resolves with its result, or rejects with a
   * `StickerbotError` carrying the daemon's code. Retryable failures (and timeouts) are
   * retried with the same `args.id`, so the daemon acts at most once.
   */
  command<N extends WorkerCommandName>(name: N, args: WorkerCommandArgs<N>, options?: CommandOptions): Promise<WorkerCommandResult<N>>;
}

/** The worker's connection to the daemon. */
export interface BridgeClient extends CommandSender {
  /** Connects (and keeps reconnecting) and starts handling events. */
  start(): void;
  /** Stops taking events, finishes or abandons those in hand within `graceMs`, acks and disconnects. */
  stop(graceMs: number): Promise<StopOutcome>;
  /** Whether the handshake with the daemon is currently complete. */
  readonly connected: boolean;
  /** The last committed journal position. */
  position(): number;
  /** Resolves when no event is queued or in hand. */
  idle(): Promise<void>;
}

/** Options of {@link createBridgeClient}. */
export interface BridgeClientOptions {
  /** The daemon's base URL, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** The bridge token, resolved before every connection attempt (`undefined`: not available yet). */
  token: () => string | undefined;
  /** What to tell the operator when {@link token} has nothing. */
  tokenHint: string;
  group: string;
  progress: ProgressStore;
  handle: EntryHandler;
  log: Logger;
  /** Reconnect backoff (default 500 ms base, 30 s cap, full jitter). */
  backoff?: BackoffOptions;
  /** How many entries of different chats are handled at once (default 8). */
  concurrency?: number;
  /** Ack batching delay, in ms (default 250). */
  ackDelayMs?: number;
  /** Default command timeouts by name, in ms. */
  timeouts?: Partial<Record<WorkerCommandName, number>>;
  /** Delay between command retries, in ms (default 500, doubling). */
  retryDelayMs?: number;
  /** The protocol version announced (default {@link PROTOCOL_VERSION}; tests change it). */
  protocol?: number;
  /** Called after every successful handshake (e.g. to refresh what the worker knows of the sessions). */
  onConnect?: () => void;
}

const DEFAULT_TIMEOUTS: Record<WorkerCommandName, number> = {
  'message:send': 45_000,
  // The daemon itself gives a download 60 s.
  'media:download': 75_000,
  'message:read': 15_000,
  'presence:send': 15_000,
  'contact:lookup': 20_000,
  'group:metadata': 20_000,
  'session:list': 10_000,
  'daemon:status': 10_000,
};

/** The loose view of a socket used to emit a command whose name is only known at run time. */
interface DynamicEmitter {
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
}

type WorkerSocket = Socket<WorkerServerToClientEvents, WorkerClientToServerEvents>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Creates the bridge client: Socket.IO to `/worker` (websocket only), the handshake with
 * token, protocol version, group and last committed position, the event pump, reconnects
 * with backoff after any failure, and the typed command client.
 */
export function createBridgeClient(options: BridgeClientOptions): BridgeClient {
  const log = options.log.child({ module: 'bridge' });
  // The daemon is usually on the same host and back within seconds: retry sooner than its sessions do.
  const backoff = createBackoff({ baseMs: 500, capMs: 30_000, ...options.backoff });
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const retryDelayMs = options.retryDelayMs ?? 500;
  const url = new URL(WORKER_NAMESPACE, options.url).toString();
  let token: string | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let everConnected = false;

  const socket: WorkerSocket = io(url, {
    transports: ['websocket'],
    autoConnect: false,
    // Reconnection is ours (below): the built-in one does not retry a refused handshake.
    reconnection: false,
    auth: (cb) => {
      const auth: WorkerAuth = { token: token ?? '', protocol: options.protocol ?? PROTOCOL_VERSION, group: options.group, position: pump.position() };
      cb(auth);
    },
  });

  const pump = createEventPump({
    progress: options.progress,
    handle: options.handle,
    log,
    concurrency: options.concurrency,
    ackDelayMs: options.ackDelayMs,
    sendAck(position) {
      if (!socket.connected) return false;
      socket.emit('event:ack', { position });
      log.debug({ position }, 'acknowledged');
      return true;
    },
  });

  function scheduleConnect(reason: string): void {
    if (stopped || retryTimer) return;
    const delay = backoff.next();
    log.debug({ delayMs: delay, attempt: backoff.attempts, reason }, 'reconnect scheduled');
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, delay);
  }

  function connect(): void {
    if (stopped || socket.connected) return;
    token = options.token();
    if (!token) {
      log.error({ attempt: backoff.attempts }, `no bridge token: ${options.tokenHint}`);
      return scheduleConnect('no token');
    }
    socket.connect();
  }

  socket.on('connect', () => {
    backoff.reset();
    everConnected = true;
    log.info({ url, group: options.group, position: pump.position() }, 'connected to the daemon');
    options.onConnect?.();
  });

  socket.on('connect_error', (err: Error & { data?: unknown }) => {
    const data = err.data;
    if (isWireError(data) && data.code === 'UNAUTHORIZED') {
      log.error({ url, attempt: backoff.attempts }, `the daemon refused the token (UNAUTHORIZED): ${data.message}. Check ${options.tokenHint}`);
    } else if (isWireError(data) && data.code === 'PROTOCOL_MISMATCH') {
      log.error(
        { url, attempt: backoff.attempts, protocol: options.protocol ?? PROTOCOL_VERSION },
        `the daemon speaks another protocol version (PROTOCOL_MISMATCH): ${data.message}`,
      );
    } else if (isWireError(data)) {
      log.error({ url, attempt: backoff.attempts, code: data.code }, `the daemon refused the connection: ${data.message}`);
    } else {
      log.warn({ url, attempt: backoff.attempts, reason: err.message }, 'the daemon is unreachable; retrying with backoff');
    }
    // The manager keeps a transport open after a refused handshake; close it between attempts.
    socket.disconnect();
    scheduleConnect('connect_error');
  });

  socket.on('disconnect', (reason) => {
    pump.reset();
    if (stopped) return;
    log.warn({ reason }, 'disconnected from the daemon; unacknowledged events will be replayed');
    scheduleConnect(reason);
  });

  // A packet holds entries in `seq` order (consecutive on one host, a connection's
  // partitions in cluster mode); each is validated by the pump. Anything but an
  // array is handed over as one entry, so it is reported and skipped like any invalid one.
  socket.on('events:journaled', (entries: unknown) => {
    pump.receive(Array.isArray(entries) ? (entries as unknown[]) : [entries]);
  });

  async function command<N extends WorkerCommandName>(
    name: N,
    args: WorkerCommandArgs<N>,
    callOptions: CommandOptions = {},
  ): Promise<WorkerCommandResult<N>> {
    const timeoutMs = callOptions.timeoutMs ?? timeouts[name];
    const retries = callOptions.retries ?? 2;
    const schema = resultSchema(WORKER_COMMANDS[name].result);
    const emitter = socket as unknown as DynamicEmitter;
    for (let attemptNo = 0; ; attemptNo++) {
      let failure: StickerbotError;
      try {
        const raw = await emitter.timeout(timeoutMs).emitWithAck(name, args);
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          throw new StickerbotError('INTERNAL', `the daemon answered ${name} with an unexpected shape`, { cause: parsed.error });
        }
        if (parsed.data.ok) return parsed.data.result as WorkerCommandResult<N>;
        failure = fromWireError(parsed.data.error);
      } catch (err) {
        if (err instanceof StickerbotError) throw err;
        failure = new StickerbotError('TIMEOUT', `the daemon did not answer ${name} within ${timeoutMs} ms`, { cause: err });
      }
      if (!failure.retryable || attemptNo >= retries || stopped) {
        log.warn({ command: name, id: args.id, code: failure.code, attempts: attemptNo + 1 }, `${name} failed: ${failure.message}`);
        throw failure;
      }
      log.debug({ command: name, id: args.id, code: failure.code, attempt: attemptNo + 1 }, 'retrying with the same id');
      await sleep(retryDelayMs * 2 ** attemptNo);
    }
  }

  return {
    start() {
      stopped = false;
      connect();
    },
    async stop(graceMs) {
      const outcome = await pump.stop(graceMs);
      stopped = true;
      // Socket.IO servers dispatch an event on the next tick and drop it if the socket has
      // closed by then, so the final ack needs a moment on the wire before we disconnect.
      // (The position stored in the bot database is what the next handshake presents
      // either way; the ack only keeps the daemon's view current.)
      if (socket.connected) await sleep(100);
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      socket.disconnect();
      log.info({ position: outcome.position, abandoned: outcome.abandoned, everConnected }, 'bridge closed');
      return outcome;
    },
    get connected() {
      return socket.connected;
    },
    position: () => pump.position(),
    idle: () => pump.idle(),
    command,
  };
}
