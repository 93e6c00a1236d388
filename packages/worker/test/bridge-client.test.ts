import path from 'node:path';
import { PROTOCOL_VERSION, StickerbotError, type JournalEntry } from '@stickerbot/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createBridgeClient, type BridgeClient } from '../src/bridge/bridge-client.js';
import type { EntryHandler } from '../src/bridge/event-pump.js';
import { openBotDatabase, type BotDatabase } from '../src/db/bot-database.js';
import { captureLog, messageEvent, startFakeDaemon, tempDir, waitFor, type FakeDaemon } from '../src/test-kit/index.js';

describe('bridge client against a protocol-speaking Socket.IO server', { timeout: 60_000 }, () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup.length = 0;
  });

  async function setup(options: { token?: () => string | undefined; protocol?: number; handle?: EntryHandler; daemon?: FakeDaemon; dir?: string } = {}) {
    const daemon = options.daemon ?? (await startFakeDaemon());
    if (!options.daemon) cleanup.push(() => daemon.close());
    let dir = options.dir;
    if (!dir) {
      const temp = tempDir();
      cleanup.push(() => temp[Symbol.dispose]());
      dir = temp.path;
    }
    const db: BotDatabase = openBotDatabase(path.join(dir, 'worker.sqlite'), 'bot');
    const handled: JournalEntry[] = [];
    const capture = captureLog();
    const client: BridgeClient = createBridgeClient({
      url: daemon.url,
      token: options.token ?? (() => daemon.token),
      tokenHint: 'STICKERBOT_TOKEN',
      group: 'bot',
      progress: db.progress,
      log: capture.log,
      backoff: { baseMs: 20, capMs: 200 },
      ackDelayMs: 10,
      retryDelayMs: 10,
      protocol: options.protocol,
      handle:
        options.handle ??
        ((entry) => {
          handled.push(entry);
          return Promise.resolve();
        }),
    });
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await client.stop(1000);
      db.close();
    };
    cleanup.push(stop);
    return { daemon, db, client, handled, capture, stop, dir };
  }

  it('presents token, protocol, group and position, then handles entries in order and acks cumulatively', async () => {
    const { daemon, client, handled, db } = await setup();
    daemon.append(messageEvent());
    daemon.append(messageEvent());
    client.start();
    await waitFor(() => handled.length === 2, 15_000, 'replayed entries');
    daemon.append(messageEvent());
    await waitFor(() => daemon.acks.at(-1) === 3, 15_000, 'ack of 3');
    expect(handled.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(daemon.handshakes[0]).toMatchObject({ token: daemon.token, protocol: PROTOCOL_VERSION, group: 'bot', position: 0 });
    expect(daemon.acks.length).toBeLessThanOrEqual(3);
    expect(db.progress.position()).toBe(3);
  });

  it('resumes from its stored position after a restart and handles nothing twice', async () => {
    const daemon = await startFakeDaemon();
    cleanup.push(() => daemon.close());
    using dir = tempDir();
    const first = await setup({ daemon, dir: dir.path });
    daemon.append(messageEvent());
    daemon.append(messageEvent());
    first.client.start();
    await waitFor(() => first.handled.length === 2);
    await first.stop();
    daemon.append(messageEvent());
    const second = await setup({ daemon, dir: dir.path });
    second.client.start();
    await waitFor(() => second.handled.length === 1);
    expect(second.handled.map((entry) => entry.seq)).toEqual([3]);
    expect(daemon.handshakes.at(-1)?.position).toBe(2);
    await second.stop();
  });

  it('skips a replayed message id even under a new seq', async () => {
    const { daemon, client, handled } = await setup();
    const event = messageEvent();
    daemon.append(event);
    daemon.append(event);
    daemon.append(messageEvent());
    client.start();
    await waitFor(() => daemon.acks.at(-1) === 3);
    expect(handled.map((entry) => entry.seq)).toEqual([1, 3]);
  });

  it('skips an invalid entry with a clear log line and keeps going', async () => {
    const { daemon, client, handled, capture } = await setup();
    client.start();
    await waitFor(() => client.connected);
    daemon.pushRaw('not a packet');
    daemon.pushRaw([{ seq: 1, sessionId: 'default', ts: 1, event: { type: 'message:received', message: { id: 'no' } } }]);
    daemon.journal.push({ seq: 1, sessionId: 'default', ts: 1, event: { type: 'session:changed', session: { id: 'default', status: 'CONNECTED', reconnectAttempts: 0, updatedAt: 1 } } });
    daemon.append(messageEvent());
    await waitFor(() => handled.length === 1);
    expect(handled[0]?.seq).toBe(2);
    expect(capture.messages().filter((m) => m === 'the daemon sent an invalid journal entry; skipping it')).toHaveLength(2);
  });

  it('logs a refused token clearly and connects once the token is right', async () => {
    let token = 'wrong';
    const { daemon, client, capture, handled } = await setup({ token: () => token });
    daemon.append(messageEvent());
    client.start();
    await waitFor(() => capture.messages().some((m) => m.includes('refused the token (UNAUTHORIZED)')));
    token = daemon.token;
    await waitFor(() => handled.length === 1);
    expect(client.connected).toBe(true);
  });

  it('logs a protocol mismatch clearly', async () => {
    const { client, capture } = await setup({ protocol: 99 });
    client.start();
    await waitFor(() => capture.messages().some((m) => m.includes('another protocol version (PROTOCOL_MISMATCH)')));
    expect(client.connected).toBe(false);
  });

  it('says when there is no token yet, and connects when it appears', async () => {
    const holder: { token?: string } = {};
    const { daemon, client, capture } = await setup({ token: () => holder.token });
    client.start();
    await waitFor(() => capture.messages().some((m) => m.startsWith('no bridge token')));
    holder.token = daemon.token;
    await waitFor(() => client.connected);
  });

  it('reconnects with backoff when the daemon goes away and replays what was not acked', async () => {
    const { daemon, client, handled, capture } = await setup();
    client.start();
    daemon.append(messageEvent());
    await waitFor(() => handled.length === 1);
    await daemon.pause();
    await waitFor(() => capture.messages().some((m) => m.includes('unreachable')));
    await daemon.resume();
    daemon.journal.push({ seq: 2, sessionId: 'default', ts: Date.now(), event: messageEvent() });
    await waitFor(() => handled.length === 2, 15_000, 'replay after reconnect');
    expect(handled.map((entry) => entry.seq)).toEqual([1, 2]);
    expect(daemon.handshakes.at(-1)?.position).toBe(1);
  });

  it('retries a retryable command failure with the same id and returns the result', async () => {
    const { daemon, client } = await setup();
    let calls = 0;
    daemon.respond = () => {
      calls += 1;
      if (calls < 3) throw new StickerbotError('SESSION_NOT_CONNECTED');
      return { messageId: 'SENT', timestamp: 1 };
    };
    client.start();
    const result = await client.command('message:send', {
      id: 'w.abc.1',
      sessionId: 'default',
      chat: '1@s.whatsapp.net',
      content: { type: 'text', text: 'hi' },
    });
    expect(result.messageId).toBe('SENT');
    expect(daemon.commands.map((command) => command.args.id)).toEqual(['w.abc.1', 'w.abc.1', 'w.abc.1']);
  });

  it('does not retry a non-retryable failure', async () => {
    const { daemon, client } = await setup();
    daemon.respond = () => {
      throw new StickerbotError('MEDIA_TOO_LARGE');
    };
    client.start();
    const attempt = client.command('media:download', { id: 'w.x.1', sessionId: 'default', messageId: 'M1' });
    await expect(attempt).rejects.toBeInstanceOf(StickerbotError);
    await expect(attempt).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });
    expect(daemon.commands).toHaveLength(1);
  });

  it('turns a missing answer into TIMEOUT after the per-call timeout', async () => {
    const { daemon, client } = await setup();
    await daemon.pause();
    client.start();
    const attempt = client.command('daemon:status', { id: 'w.t.1' }, { timeoutMs: 100, retries: 0 });
    await expect(attempt).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('abandons an entry still running after the grace period, leaving it unacknowledged', async () => {
    const started: number[] = [];
    const { daemon, client, db } = await setup({
      handle: async (entry, signal) => {
        started.push(entry.seq);
        if (entry.seq === 2) await new Promise((resolve) => signal.addEventListener('abort', resolve));
      },
    });
    daemon.append(messageEvent());
    daemon.append(messageEvent());
    client.start();
    await waitFor(() => started.length === 2);
    const outcome = await client.stop(100);
    expect(outcome).toEqual({ abandoned: 1, position: 1 });
    expect(db.progress.position()).toBe(1);
  });

  it('finishes the entry in hand within the grace period before stopping', async () => {
    const started: number[] = [];
    const { daemon, client, db } = await setup({
      handle: async (entry) => {
        started.push(entry.seq);
        await new Promise((resolve) => setTimeout(resolve, 200));
      },
    });
    daemon.append(messageEvent());
    daemon.append(messageEvent());
    client.start();
    await waitFor(() => started.length === 1);
    const outcome = await client.stop(5000);
    expect(outcome).toEqual({ abandoned: 0, position: 1 });
    expect(started).toEqual([1]);
    expect(db.progress.position()).toBe(1);
    await waitFor(() => daemon.acks.at(-1) === 1, 5000, 'final ack');
  });
});
