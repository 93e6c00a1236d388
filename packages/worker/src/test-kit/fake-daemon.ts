/**
 * A small test double of the daemon's `/worker` bridge: a real Socket.IO server on port 0
 * that checks the handshake like the daemon (token, protocol version), replays a journal
 * after the presented position, records cumulative acks, and answers commands through a
 * programmable handler with id-based idempotency.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  PROTOCOL_VERSION,
  StickerbotError,
  WORKER_COMMAND_NAMES,
  WORKER_NAMESPACE,
  checkProtocolVersion,
  fail,
  ok,
  wireError,
  workerAuthSchema,
  type BotEvent,
  type JournalEntry,
  type Result,
  type WorkerAuth,
  type WorkerClientToServerEvents,
  type WorkerCommandName,
  type WorkerServerToClientEvents,
} from '@stickerbot/protocol';
import { Server, type Socket } from 'socket.io';

/** A command the fake daemon received. */
export interface ReceivedCommand {
  name: WorkerCommandName;
  args: { id: string } & Record<string, unknown>;
}

/** Answers one command, now or later (throw a StickerbotError to fail it). */
export type CommandResponder = (command: ReceivedCommand) => unknown;

export interface FakeDaemon extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  token: string;
  readonly journal: JournalEntry[];
  readonly handshakes: WorkerAuth[];
  readonly acks: number[];
  readonly commands: ReceivedCommand[];
  /** Appends an event and pushes it to connected workers. */
  append(event: BotEvent, sessionId?: string): JournalEntry;
  /** Pushes a raw `events:journaled` packet (for invalid-entry tests). */
  pushRaw(raw: unknown): void;
  respond: CommandResponder;
  /** Stops listening (workers see the daemon go away). */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeDaemon(options: { token?: string; port?: number } = {}): Promise<FakeDaemon> {
  const journal: JournalEntry[] = [];
  const handshakes: WorkerAuth[] = [];
  const acks: number[] = [];
  const commands: ReceivedCommand[] = [];
  const recorded = new Map<string, Result<unknown>>();
  let http: HttpServer;
  let io: Server;
  let port = options.port ?? 0;

  const state: FakeDaemon = {
    url: '',
    port: 0,
    token: options.token ?? 'secret-token',
    journal,
    handshakes,
    acks,
    commands,
    append(event, sessionId = 'default') {
      const entry: JournalEntry = { seq: journal.length + 1, sessionId, ts: Date.now(), event };
      journal.push(entry);
      io.of(WORKER_NAMESPACE).emit('events:journaled', [entry]);
      return entry;
    },
    pushRaw(raw) {
      (io.of(WORKER_NAMESPACE) as unknown as { emit(event: string, payload: unknown): void }).emit('events:journaled', raw);
    },
    respond: (command) => {
      if (command.name === 'message:send') return { messageId: `SENT${commands.length}`, timestamp: Date.now() };
      if (command.name === 'daemon:status') return { protocol: PROTOCOL_VERSION, startedAt: Date.now() - 1000, now: Date.now() };
      throw new StickerbotError('INTERNAL', `the fake daemon does not do ${command.name}`);
    },
    pause: () => stop(),
    resume: () => listen(),
    close: () => stop(),
    [Symbol.asyncDispose]: () => stop(),
  };

  function attach(server: Server): void {
    const ns = server.of(WORKER_NAMESPACE);
    ns.use((socket, next) => {
      const auth = workerAuthSchema.safeParse(socket.handshake.auth);
      const version = checkProtocolVersion(auth.success ? auth.data.protocol : (socket.handshake.auth as { protocol?: unknown }).protocol);
      const refuse = (error: ReturnType<typeof wireError>) => next(Object.assign(new Error(error.message), { data: error }));
      if (!version.ok) return refuse(version.error);
      if (!auth.success || auth.data.token !== state.token) return refuse(wireError('UNAUTHORIZED'));
      handshakes.push(auth.data);
      next();
    });
    ns.on('connection', (socket: Socket<WorkerClientToServerEvents, WorkerServerToClientEvents>) => {
      const position = handshakes.at(-1)?.position ?? 0;
      const replay = journal.filter((entry) => entry.seq > position);
      if (replay.length > 0) socket.emit('events:journaled', replay);
      socket.on('event:ack', (ack) => acks.push(ack.position));
      for (const name of WORKER_COMMAND_NAMES) {
        (socket as unknown as Socket).on(name, (args: ReceivedCommand['args'], ack: (result: Result<unknown>) => void) => {
          const command = { name, args };
          commands.push(command);
          const previous = recorded.get(args.id);
          if (previous) return ack(previous);
          void Promise.resolve()
            .then(() => state.respond(command))
            .then(
              (value) => ok(value),
              (error: unknown) => fail(error),
            )
            .then((result: Result<unknown>) => {
              if (result.ok || !result.error.retryable) recorded.set(args.id, result);
              ack(result);
            });
        });
      }
    });
  }

  async function listen(): Promise<void> {
    http = createServer();
    io = new Server(http, { transports: ['websocket'], maxHttpBufferSize: 32 * 1024 * 1024 });
    attach(io);
    await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
    Object.assign(state, { port, url: `http://127.0.0.1:${port}` });
  }

  async function stop(): Promise<void> {
    if (!http.listening) return;
    io.disconnectSockets(true);
    await io.close();
  }

  await listen();
  return state;
}
