import type { AddressInfo } from 'node:net';
import { Server, type Namespace } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  DASHBOARD_NAMESPACE,
  PROTOCOL_VERSION,
  WORKER_NAMESPACE,
  checkProtocolVersion,
  journalEntrySchema,
  ok,
  parseWorkerCommandArgs,
  toWireError,
  workerAuthSchema,
  type Ack,
  type DashboardClientToServerEvents,
  type DashboardCommandArgs,
  type DashboardCommandName,
  type DashboardCommandResult,
  type DashboardServerToClientEvents,
  type EventAck,
  type JournalEntry,
  type Result,
  type WireError,
  type WorkerClientToServerEvents,
  type WorkerCommandArgs,
  type WorkerCommandName,
  type WorkerCommandResult,
  type WorkerServerToClientEvents,
} from '../src/index.js';
import { exampleEntries, exampleSticker, exampleWorkerCommands } from './examples.js';

/** Compile-time: every command's listener takes its args and an ack of its Result, for both maps. */
type WorkerMapIsExact = {
  [N in WorkerCommandName]: WorkerClientToServerEvents[N] extends (
    args: WorkerCommandArgs<N>,
    ack: Ack<WorkerCommandResult<N>>,
  ) => void
    ? true
    : false;
};
type DashboardMapIsExact = {
  [N in DashboardCommandName]: DashboardClientToServerEvents[N] extends (
    args: DashboardCommandArgs<N>,
    ack: Ack<DashboardCommandResult<N>>,
  ) => void
    ? true
    : false;
};

describe('typed bridge maps', () => {
  it('cover every command with its own args and Result ack', () => {
    expectTypeOf<WorkerMapIsExact[WorkerCommandName]>().toEqualTypeOf<true>();
    expectTypeOf<DashboardMapIsExact[DashboardCommandName]>().toEqualTypeOf<true>();
  });

  describe('over a real Socket.IO server and client on loopback', () => {
    let server: Server;
    let url: string;
    const received: { acks: EventAck[] } = { acks: [] };

    beforeAll(async () => {
      server = new Server({ transports: ['websocket'] });
      const worker: Namespace<WorkerClientToServerEvents, WorkerServerToClientEvents> = server.of(WORKER_NAMESPACE);
      worker.use((socket, next) => {
        const auth = workerAuthSchema.safeParse(socket.handshake.auth);
        const version = checkProtocolVersion(auth.success ? auth.data.protocol : undefined);
        if (!version.ok) return next(Object.assign(new Error(version.error.message), { data: version.error }));
        next();
      });
      worker.on('connection', (socket) => {
        socket.on('message:send', (args, ack) => {
          expectTypeOf(args).toEqualTypeOf<WorkerCommandArgs<'message:send'>>();
          expectTypeOf(ack).parameter(0).toEqualTypeOf<Result<WorkerCommandResult<'message:send'>>>();
          try {
            const parsed = parseWorkerCommandArgs('message:send', args);
            const size = parsed.content.type === 'sticker' ? parsed.content.data.byteLength : 0;
            ack(ok({ messageId: `SENT${size}`, timestamp: 1 }));
          } catch (error) {
            ack({ ok: false, error: toWireError(error) });
          }
        });
        socket.on('daemon:status', (_args, ack) => ack(ok({ protocol: PROTOCOL_VERSION, startedAt: 1, now: 2 })));
        socket.on('event:ack', (ack) => {
          expectTypeOf(ack).toEqualTypeOf<EventAck>();
          received.acks.push(ack);
        });
        socket.emit('events:journaled', exampleEntries);
      });
      const dashboard: Namespace<DashboardClientToServerEvents, DashboardServerToClientEvents> = server.of(DASHBOARD_NAMESPACE);
      dashboard.on('connection', (socket) => {
        socket.on('session:pair', (args, ack) => {
          expectTypeOf(args.phone).toEqualTypeOf<string>();
          ack(ok({ code: 'ABCD1234' }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0) && resolve());
      const port = (server.httpServer.address() as AddressInfo).port;
      url = `http://127.0.0.1:${port}`;
    });

    afterAll(async () => {
      await server.close();
    });

    function connectWorker(protocol: number): ClientSocket<WorkerServerToClientEvents, WorkerClientToServerEvents> {
      return io(`${url}${WORKER_NAMESPACE}`, {
        transports: ['websocket'],
        auth: { token: 'test', protocol, group: 'bot' },
        reconnection: false,
      });
    }

    it('delivers journal entries, binary commands and acks with the declared types', async () => {
      const client = connectWorker(PROTOCOL_VERSION);
      const entries: JournalEntry[] = [];
      client.on('events:journaled', (batch) => {
        expectTypeOf(batch).toEqualTypeOf<readonly JournalEntry[]>();
        for (const entry of batch) entries.push(journalEntrySchema.parse(entry));
      });
      await new Promise<void>((resolve) => client.on('connect', resolve));

      const sent = await client.emitWithAck('message:send', exampleWorkerCommands['message:send']);
      expectTypeOf(sent).toEqualTypeOf<Result<WorkerCommandResult<'message:send'>>>();
      expect(sent).toEqual({ ok: true, result: { messageId: `SENT${exampleSticker.byteLength}`, timestamp: 1 } });

      const status = await client.emitWithAck('daemon:status', { id: 'status:1' });
      expect(status.ok && status.result.protocol).toBe(PROTOCOL_VERSION);

      client.emit('event:ack', { position: 6 });
      await expect.poll(() => received.acks).toEqual([{ position: 6 }]);
      expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      client.close();
    });

    it('answers a malformed command with INVALID_ARGS instead of throwing', async () => {
      const client = connectWorker(PROTOCOL_VERSION);
      const bad = { id: 'x', sessionId: 'default', chat: 'nobody', content: { type: 'text', text: 'hi' } } as const;
      const result = await client.emitWithAck('message:send', bad);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('INVALID_ARGS');
        expect(result.error.message).toContain('chat');
      }
      client.close();
    });

    it('refuses a client of another protocol version with PROTOCOL_MISMATCH as connect_error data', async () => {
      const client = connectWorker(PROTOCOL_VERSION + 1);
      const error = await new Promise<Error & { data?: WireError }>((resolve) => client.on('connect_error', resolve));
      expect(error.data?.code).toBe('PROTOCOL_MISMATCH');
      client.close();
    });

    it('types dashboard commands and their results', async () => {
      const client: ClientSocket<DashboardServerToClientEvents, DashboardClientToServerEvents> = io(
        `${url}${DASHBOARD_NAMESPACE}`,
        { transports: ['websocket'], auth: { token: 'admin' }, reconnection: false },
      );
      const result = await client.emitWithAck('session:pair', { sessionId: 'default', phone: '4915000000000' });
      expectTypeOf(result).toEqualTypeOf<Result<DashboardCommandResult<'session:pair'>>>();
      expect(result).toEqual({ ok: true, result: { code: 'ABCD1234' } });
      client.close();
    });
  });
});
