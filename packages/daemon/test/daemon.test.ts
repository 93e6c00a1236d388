/**
 * The whole daemon (createDaemon) over real parts: SQLite in a temp folder, the real
 * session registry driven by the test kit's fake WhatsApp, real Socket.IO clients on
 * loopback, real HTTP.
 */
import {
  PROTOCOL_VERSION,
  type JournalEntry,
  type MessageSummary,
  type Result,
  type Session,
  type SessionErrorPayload,
  type SessionQr,
} from '@stickerbot/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/storage/index.js';
import { FAKE_DISCONNECT, createFakeWa } from '../src/test-kit/index.js';
import { collectEntries, connected, contiguous, eventually, next, refusal, until, type DashboardClient, type WorkerClient } from './bridge-harness.js';
import { DaemonHarness, login } from './daemon-harness.js';

const harness = new DaemonHarness();
afterEach(() => harness.cleanup());

const ALICE = '4915100000001';
const CHAT = `${ALICE}@s.whatsapp.net`;

function call<T>(socket: WorkerClient | DashboardClient, event: string, args?: unknown): Promise<Result<T>> {
  return new Promise((resolve) => {
    const emit = (socket.emit as (...all: unknown[]) => unknown).bind(socket);
    if (args === undefined) emit(event, (result: Result<T>) => resolve(result));
    else emit(event, args, (result: Result<T>) => resolve(result));
  });
}

function messages(entries: readonly JournalEntry[]): JournalEntry[] {
  return entries.filter((entry) => entry.event.type === 'message:received');
}

function textOf(entry: JournalEntry | undefined): string | undefined {
  return entry?.event.type === 'message:received' ? entry.event.message.text : undefined;
}

function statusesOf(entries: readonly JournalEntry[], sessionId: string): string[] {
  return entries.flatMap((entry) =>
    entry.sessionId === sessionId && entry.event.type === 'session:changed' ? [entry.event.session.status] : [],
  );
}

/** Reads the daemon's database beside it (WAL: a second connection sees committed rows). */
function withStorage<T>(dataDir: string, read: (storage: Storage) => T): T {
  const storage = openStorage(dataDir);
  try {
    return read(storage);
  } finally {
    storage.close();
  }
}

/** Waits until the daemon's persistent outbound queue holds one send. */
async function untilQueued(dataDir: string): Promise<void> {
  const storage = openStorage(dataDir);
  try {
    await until(() => storage.outbox.size() === 1, 'the queued send');
  } finally {
    storage.close();
  }
}

async function waitForStatus(entries: JournalEntry[], sessionId: string, status: string): Promise<void> {
  await until(() => statusesOf(entries, sessionId).includes(status), `${sessionId} ${status}`);
}

describe('daemon: login', () => {
  it('shows the QR to a subscribed dashboard, then reports CONNECTED to dashboards and workers', async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa);
    const dashboard = running.clients.dashboard({ token: running.token });
    const listed = await next<{ sessions: Session[] }>(dashboard, 'session:listed');
    expect(listed.sessions.map((session) => session.id)).toEqual(['main']);
    expect(await call(dashboard, 'session:subscribe', { sessionId: 'main' })).toMatchObject({ ok: true });
    const worker = running.clients.worker({ token: running.token }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await connected(worker);

    const qrShown = next<SessionQr>(dashboard, 'session:qr');
    await wa.session('main').waitForSocket();
    const qr = wa.session('main').qr();
    const shown = await qrShown;
    expect(shown).toMatchObject({ sessionId: 'main', qr });
    expect(shown.dataUrl).toMatch(/^data:image\/png;base64,/);
    expect(shown.expiresAt).toBeGreaterThan(Date.now());

    const changes: Session[] = [];
    dashboard.on('session:changed', (session) => changes.push(session));
    await login(wa.session('main'));
    await until(() => changes.some((session) => session.status === 'CONNECTED'), 'CONNECTED on the dashboard');
    await waitForStatus(entries, 'main', 'CONNECTED');
    expect(changes.find((session) => session.status === 'CONNECTED')?.account?.jid).toContain('15550000001');
    expect(contiguous(entries.map((entry) => entry.seq), entries[0]?.seq ?? 1, entries.at(-1)?.seq ?? 0)).toBe(true);
  });
});

describe('daemon: late subscribers', () => {
  it('sends the QR on screen to a dashboard that subscribes after it was shown', async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa);
    await wa.session('main').waitForSocket();
    const qr = wa.session('main').qr();
    const dashboard = running.clients.dashboard({ token: running.token });
    await next(dashboard, 'session:listed');
    const shown = next<SessionQr>(dashboard, 'session:qr');
    // The registry renders the QR asynchronously; subscribe until it has one to hand over.
    await eventually(() => call(dashboard, 'session:subscribe', { sessionId: 'main' }), (result) => result.ok && running.daemon.registry?.currentQr?.('main') !== undefined, 'a current QR');
    expect(await shown).toMatchObject({ sessionId: 'main', qr });
  });
});

describe('daemon: dashboard relay', () => {
  it("relays a subscribed session's message summaries and errors to the dashboard", async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa);
    const dashboard = running.clients.dashboard({ token: running.token });
    await next(dashboard, 'session:listed');
    await call(dashboard, 'session:subscribe', { sessionId: 'main' });
    await login(wa.session('main'));
    const summary = next<MessageSummary>(dashboard, 'message:received');
    wa.session('main').receiveText({ from: ALICE, text: 'hello dashboard' });
    expect(await summary).toMatchObject({ sessionId: 'main', kind: 'text', preview: 'hello dashboard', fromMe: false });

    const reported = next<SessionErrorPayload>(dashboard, 'session:error');
    const stopped = new Promise<Session>((resolve) => dashboard.on('session:changed', (session) => session.status === 'ERROR' && resolve(session)));
    wa.session('main').close(FAKE_DISCONNECT.connectionReplaced);
    expect((await reported).sessionId).toBe('main');
    expect((await stopped).lastDisconnect).toBe('connectionReplaced');
  });
});

describe('daemon: journal', () => {
  it('journals inbound messages and replays them from a position after the worker reconnects', async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa);
    await login(wa.session('main'));
    const first = running.clients.worker({ token: running.token }, { connect: false });
    const seen = collectEntries(first);
    first.connect();
    for (const text of ['one', 'two', 'three']) wa.session('main').receiveText({ from: ALICE, text });
    await until(() => messages(seen).length === 3, 'three messages');
    const position = messages(seen)[1]?.seq ?? 0;
    first.disconnect();

    wa.session('main').receiveText({ from: ALICE, text: 'four' });
    wa.session('main').receiveText({ from: ALICE, text: 'five', backlog: true });
    const second = running.clients.worker({ token: running.token, position }, { connect: false });
    const replayed = collectEntries(second);
    second.connect();
    await until(() => messages(replayed).length === 3, 'the replay after the position');
    expect(messages(replayed).map(textOf)).toEqual(['three', 'four', 'five']);
    expect(replayed[0]?.seq).toBe(position + 1);
    expect(contiguous(replayed.map((entry) => entry.seq), position + 1, replayed.at(-1)?.seq ?? 0)).toBe(true);
    const five = messages(replayed)[2];
    expect(five?.event.type === 'message:received' && five.event.message.backlog).toBe(true);
  });

  it('acknowledgements advance the stored group position, which survives a restart', async () => {
    const wa = createFakeWa();
    const dataDir = harness.dataDir();
    const running = await harness.start(dataDir, wa);
    await login(wa.session('main'));
    const worker = running.clients.worker({ token: running.token, group: 'bots' }, { connect: false });
    const seen = collectEntries(worker);
    worker.connect();
    wa.session('main').receiveText({ from: ALICE, text: 'a' });
    wa.session('main').receiveText({ from: ALICE, text: 'b' });
    await until(() => messages(seen).length === 2, 'two messages');
    const acked = messages(seen)[0]?.seq ?? 0;
    worker.emit('event:ack', { position: acked });
    const groupPosition = async (url: string): Promise<number | undefined> => {
      const body = (await (await fetch(`${url}/readyz?verbose`, { headers: { authorization: `Bearer ${running.token}` } })).json()) as { checks: { journal: { groups: Array<{ group: string; position: number }> } } };
      return body.checks.journal.groups.find((group) => group.group === 'bots')?.position;
    };
    const stored = await eventually(() => groupPosition(running.url), (position) => position === acked, 'the acknowledged position');
    expect(stored).toBe(acked);
    await running.daemon.stop();

    const again = await harness.start(dataDir, wa);
    const resumed = again.clients.worker({ token: again.token, group: 'bots' }, { connect: false });
    const replayed = collectEntries(resumed);
    resumed.connect();
    await until(() => messages(replayed).length >= 1, 'the replay after the stored position');
    expect(replayed[0]?.seq).toBe(acked + 1);
    expect(textOf(messages(replayed)[0])).toBe('b');
  });
});

describe('daemon: commands', () => {
  it('sends once for a duplicated command id', async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa);
    await login(wa.session('main'));
    const worker = running.clients.worker({ token: running.token }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await waitForStatus(entries, 'main', 'CONNECTED');
    const args = { id: 'send-once', sessionId: 'main', chat: CHAT, content: { type: 'text', text: 'hello' } };
    const [a, b] = await Promise.all([call(worker, 'message:send', args), call(worker, 'message:send', args)]);
    const c = await call(worker, 'message:send', args);
    expect(a).toMatchObject({ ok: true, result: { messageId: expect.any(String) as string } });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(wa.session('main').sent).toHaveLength(1);
  });

  it('refuses a repeated command id with other arguments or for another command (IDEMPOTENCY_CONFLICT) and sends nothing more', async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa);
    await login(wa.session('main'));
    const worker = running.clients.worker({ token: running.token }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await waitForStatus(entries, 'main', 'CONNECTED');
    const args = { id: 'reply-1', sessionId: 'main', chat: CHAT, content: { type: 'text', text: 'pong in 3 ms' } };
    const first = await call(worker, 'message:send', args);
    expect(first.ok).toBe(true);
    const conflict = { ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', retryable: false } };
    expect(await call(worker, 'message:send', { ...args, content: { type: 'text', text: 'pong in 4 ms' } })).toMatchObject(conflict);
    expect(await call(worker, 'message:send', { ...args, chat: `4915100000002@s.whatsapp.net` })).toMatchObject(conflict);
    expect(await call(worker, 'message:read', { id: 'reply-1', sessionId: 'main', chat: CHAT, messageIds: ['ABC'] })).toMatchObject(conflict);
    expect(await call(worker, 'message:send', args)).toEqual(first);
    expect(wa.session('main').sent).toHaveLength(1);
  });

  it('answers malformed commands with INVALID_ARGS and keeps running', async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa);
    const worker = running.clients.worker({ token: running.token });
    await connected(worker);
    expect(await call(worker, 'message:send', { id: 'bad', sessionId: 'main', chat: CHAT, content: { type: 'gif' } })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGS', retryable: false },
    });
    expect(await call(worker, 'contact:lookup', { id: 'bad-2', sessionId: 'main', phones: ['+49 151'] })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGS' },
    });
    expect(await call(worker, 'no:such-command', { id: 'bad-3' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
    expect(await call(worker, 'session:list')).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
    expect(await call(worker, 'session:list', { id: 'fine' })).toMatchObject({ ok: true, result: { sessions: [{ id: 'main' }] } });
  });

  it('refuses an oversize binary', async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa, { STICKERBOT_MAX_MEDIA_MB: '0.0625' });
    await login(wa.session('main'));
    const worker = running.clients.worker({ token: running.token });
    await connected(worker);
    const sticker = (id: string, bytes: number) => ({ id, sessionId: 'main', chat: CHAT, content: { type: 'sticker', data: Buffer.alloc(bytes, 7) } });
    expect(await call(worker, 'message:send', sticker('big-1', 64 * 1024 + 1))).toMatchObject({ ok: false, error: { code: 'MEDIA_TOO_LARGE' } });
    const dropped = next<string>(worker, 'disconnect');
    worker.emit('message:send', sticker('big-2', 256 * 1024) as never, () => {
      throw new Error('an oversize packet must not be answered');
    });
    expect(await dropped).toMatch(/close/);
    expect(wa.session('main').sent).toHaveLength(0);
  });
});

describe('daemon: handshake', () => {
  it('refuses a missing token, a wrong token and a wrong protocol version with their codes', async () => {
    const running = await harness.start(harness.dataDir(), createFakeWa());
    expect(await refusal(running.clients.worker({}))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await refusal(running.clients.worker({ token: `${running.token}x` }))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await refusal(running.clients.worker({ token: running.token, protocol: PROTOCOL_VERSION - 1 }))).toMatchObject({ code: 'PROTOCOL_MISMATCH' });
    expect(await refusal(running.clients.dashboard({ token: 'not-the-token' }))).toMatchObject({ code: 'UNAUTHORIZED' });
  });
});

describe('daemon: sessions across restarts', () => {
  it('a restart keeps sessions, credentials, the journal and the command log', async () => {
    const wa = createFakeWa();
    const dataDir = harness.dataDir();
    const first = await harness.start(dataDir, wa);
    await login(wa.session('main'));
    const dashboard = first.clients.dashboard({ token: first.token });
    await next(dashboard, 'session:listed');
    expect(await call(dashboard, 'session:create', { sessionId: 'second' })).toMatchObject({ ok: true });
    await login(wa.session('second'), '15550000002');
    const worker = first.clients.worker({ token: first.token }, { connect: false });
    const before = collectEntries(worker);
    worker.connect();
    await until(() => statusesOf(before, 'second').includes('CONNECTED') && statusesOf(before, 'main').includes('CONNECTED'), 'both connected');
    wa.session('main').receiveText({ from: ALICE, text: 'before the restart' });
    const sendArgs = { id: 'across-restart', sessionId: 'main', chat: CHAT, content: { type: 'text', text: 'once' } };
    const sent = await call(worker, 'message:send', sendArgs);
    expect(sent.ok).toBe(true);
    await until(() => messages(before).length === 1, 'the message');
    const lastSeq = before.at(-1)?.seq ?? 0;
    await first.daemon.stop();
    // Stopping closes the sockets without logging out.
    expect(wa.session('main').loggedOutCount).toBe(0);

    const second = await harness.start(dataDir, wa);
    const resumed = second.clients.worker({ token: second.token, position: 0 }, { connect: false });
    const after = collectEntries(resumed);
    resumed.connect();
    await until(
      () => after.some((entry) => entry.seq > lastSeq && entry.event.type === 'session:changed' && entry.event.session.status === 'CONNECTED'),
      'a session reconnected after the restart',
    );
    await until(() => statusesOf(after.filter((entry) => entry.seq > lastSeq), 'second').includes('CONNECTED'), 'second reconnected');
    expect(after.slice(0, before.length).map((entry) => entry.seq)).toEqual(before.map((entry) => entry.seq));
    expect(textOf(messages(after)[0])).toBe('before the restart');
    const list = await call<{ sessions: Session[] }>(resumed, 'session:list', { id: 'list-after' });
    expect(list.ok && list.result.sessions.map((session) => session.id).sort()).toEqual(['main', 'second']);
    // No QR was needed: the credentials were kept.
    expect(wa.session('main').sockets.length).toBeGreaterThanOrEqual(2);
    const repeated = await call(resumed, 'message:send', sendArgs);
    expect(repeated).toEqual(sent);
    const changed = await call(resumed, 'message:send', { ...sendArgs, content: { type: 'text', text: 'twice?' } });
    expect(changed).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', retryable: false } });
    expect(wa.session('main').sent).toHaveLength(1);
  });

  it('refuses a queued send id repeated with other media, in flight and from the outbox after a restart', async () => {
    const wa = createFakeWa();
    const dataDir = harness.dataDir();
    const first = await harness.start(dataDir, wa);
    await login(wa.session('main'));
    const worker = first.clients.worker({ token: first.token }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await waitForStatus(entries, 'main', 'CONNECTED');
    // WhatsApp answers neither this send nor its resumption after the restart: it stays queued.
    wa.session('main').hangNextSend();
    wa.session('main').hangNextSend();
    const sticker = (fill: number) => ({ id: 'queued-sticker', sessionId: 'main', chat: CHAT, content: { type: 'sticker', data: Buffer.alloc(2048, fill) } });
    const pending = call(worker, 'message:send', sticker(1));
    await untilQueued(dataDir);
    const conflict = { ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', retryable: false } };
    expect(await call(worker, 'message:send', sticker(2))).toMatchObject(conflict);
    await first.daemon.stop();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'SHUTTING_DOWN' } });

    const second = await harness.start(dataDir, wa);
    const again = second.clients.worker({ token: second.token });
    await connected(again);
    expect(await call(again, 'message:send', sticker(2))).toMatchObject(conflict);
    expect(withStorage(dataDir, (storage) => storage.outbox.size())).toBe(1);
    expect(wa.session('main').sent).toHaveLength(0);
  });

  it('a restart resumes the persistent outbound queue', async () => {
    const wa = createFakeWa();
    const dataDir = harness.dataDir();
    const first = await harness.start(dataDir, wa);
    await login(wa.session('main'));
    const worker = first.clients.worker({ token: first.token }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await waitForStatus(entries, 'main', 'CONNECTED');
    // WhatsApp never answers this send: it stays in the persistent queue across the stop.
    wa.session('main').hangNextSend();
    const sendArgs = { id: 'queued-send', sessionId: 'main', chat: CHAT, content: { type: 'text', text: 'after the restart' } };
    const pending = call(worker, 'message:send', sendArgs);
    await untilQueued(dataDir);
    await first.daemon.stop();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'SHUTTING_DOWN', retryable: true } });
    expect(wa.session('main').sent).toHaveLength(0);

    const second = await harness.start(dataDir, wa);
    const [delivered] = await wa.session('main').waitForSent(1);
    expect(delivered).toMatchObject({ jid: CHAT, content: { text: 'after the restart' } });
    const again = second.clients.worker({ token: second.token });
    await connected(again);
    const retried = await call<{ messageId: string }>(again, 'message:send', sendArgs);
    expect(retried).toMatchObject({ ok: true, result: { messageId: delivered?.message.key.id } });
    expect(wa.session('main').sent).toHaveLength(1);
  });

  it('logout wipes only that session', async () => {
    const wa = createFakeWa();
    const dataDir = harness.dataDir();
    const running = await harness.start(dataDir, wa, { STICKERBOT_SESSIONS: 'main,other' });
    await login(wa.session('main'));
    await login(wa.session('other'), '15550000003');
    const dashboard = running.clients.dashboard({ token: running.token });
    await next(dashboard, 'session:listed');
    const worker = running.clients.worker({ token: running.token }, { connect: false });
    const entries = collectEntries(worker);
    worker.connect();
    await until(() => statusesOf(entries, 'other').includes('CONNECTED') && statusesOf(entries, 'main').includes('CONNECTED'), 'both connected');
    const out = await call<{ session: Session }>(dashboard, 'session:logout', { sessionId: 'other' });
    expect(out).toMatchObject({ ok: true, result: { session: { id: 'other', status: 'LOGGED_OUT' } } });
    expect(wa.session('other').loggedOutCount).toBe(1);
    expect(wa.session('main').loggedOutCount).toBe(0);
    await running.daemon.stop();

    withStorage(dataDir, (storage) => {
      expect(storage.auth.hasCredentials('main')).toBe(true);
      expect(storage.auth.hasCredentials('other')).toBe(false);
      expect(storage.sessions.get('other')).toMatchObject({ status: 'LOGGED_OUT' });
      expect(storage.sessions.get('main')?.status).not.toBe('LOGGED_OUT');
    });
  });
});

describe('daemon: HTTP', () => {
  it('answers /healthz, /readyz and /metrics', async () => {
    const wa = createFakeWa();
    const running = await harness.start(harness.dataDir(), wa);
    await login(wa.session('main'));
    const worker = running.clients.worker({ token: running.token });
    await connected(worker);
    await call(worker, 'daemon:status', { id: 'status-1' });

    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    type Ready = { ready: boolean; sessions: Array<{ id: string; status: string }> };
    const admin = { headers: { authorization: `Bearer ${running.token}` } };
    const ready = await eventually(
      async () => {
        const response = await fetch(`${running.url}/readyz?verbose`, admin);
        return { status: response.status, body: (await response.json()) as Ready };
      },
      ({ body }) => body.sessions[0]?.status === 'CONNECTED',
      'main CONNECTED in /readyz',
    );
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, sessions: [{ id: 'main', status: 'CONNECTED' }] });
    const metrics = await (await fetch(`${running.url}/metrics`, admin)).text();
    expect(metrics).toContain('stickerbot_sessions{state="CONNECTED"} 1');
    expect(metrics).toMatch(/stickerbot_command_duration_seconds_count\{op="daemon:status",outcome="ok"\} 1/);
    expect(metrics).toContain('stickerbot_events_journaled_total');
    expect(metrics).toMatch(/stickerbot_events_delivered_total\{group="bot"\} [1-9]/);
    // Memory totals and the per-session cache sizes (the fake sockets have no Baileys caches: groups only).
    expect(metrics).toMatch(/stickerbot_memory_bytes\{kind="rss"\} [1-9]\d{6,}/);
    expect(metrics).toMatch(/stickerbot_memory_bytes\{kind="heapUsed"\} [1-9]\d{5,}/);
    expect(metrics).toContain('stickerbot_session_cache_entries{session="main",cache="groups"} 0');
    expect(metrics).toContain('stickerbot_session_memory_bytes{session="main"} 0');
    worker.emit('event:ack', { position: 1 });
    const lagged = await eventually(
      async () => (await fetch(`${running.url}/metrics`, admin)).text(),
      (text) => /stickerbot_journal_lag\{group="bot"\} \d+/.test(text),
      'the lag of group bot',
    );
    expect(lagged).toMatch(/stickerbot_journal_lag\{group="bot"\} [1-9]/);
  });

  it('fails to start on a port in use, leaving the running daemon alone', async () => {
    const running = await harness.start(harness.dataDir(), createFakeWa());
    const port = String(new URL(running.url).port);
    const dataDir = harness.dataDir();
    await expect(harness.start(dataDir, createFakeWa(), { STICKERBOT_PORT: port })).rejects.toThrow(/EADDRINUSE/);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  });

  it('closes the port once stopped; a second stop waits for the same shutdown', async () => {
    const running = await harness.start(harness.dataDir(), createFakeWa());
    const first = running.daemon.stop();
    const second = running.daemon.stop();
    expect(second).toBe(first);
    await second;
    await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
  });
});
