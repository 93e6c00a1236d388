import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerCommandArgs } from '@stickerbot/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandArgsHash } from '../bridge/command-args-hash.js';
import { createSessionRegistry, type SessionRegistryDeps } from './registry.js';
import { messageIdFor } from './outbound-queue.js';
import type { SessionRegistry } from '../session-registry.js';
import { openStorage, type Storage } from '../storage/index.js';
import { createFakeWa, type FakeWa } from '../test-kit/fake-wa-session.js';
import { FakeBoom } from '../test-kit/fake-wa-socket.js';

const logger = pino({ level: 'silent' });
const ALICE = '4915100000001@s.whatsapp.net';
const BOB = '4915100000002@s.whatsapp.net';
const MB = 1024 * 1024;

let dir: string;
let storage: Storage;
let wa: FakeWa;
const registries: SessionRegistry[] = [];

function makeRegistry(overrides: Partial<SessionRegistryDeps> = {}): SessionRegistry {
  const registry = createSessionRegistry({
    storage,
    socketFactory: wa.factory,
    maxMediaBytes: MB,
    logger,
    random: () => 0,
    supervisor: { backoff: { random: () => 0.5 } },
    ...overrides,
  });
  registries.push(registry);
  return registry;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await vi.advanceTimersByTimeAsync(0);
}

async function connectedRegistry(id = 'default', overrides: Partial<SessionRegistryDeps> = {}): Promise<SessionRegistry> {
  const registry = makeRegistry(overrides);
  await registry.create(id);
  await settle();
  wa.session(id).open({ jid: '15550000001' });
  expect(registry.get(id)?.status).toBe('CONNECTED');
  return registry;
}

/** A send as the command executor hands it over: with the hash of its arguments. */
function send(registry: SessionRegistry, args: WorkerCommandArgs<'message:send'>) {
  return registry.send(args, commandArgsHash(args));
}

function text(id: string, chat: string, body: string, extra: Partial<WorkerCommandArgs<'message:send'>> = {}): WorkerCommandArgs<'message:send'> {
  return { id, sessionId: 'default', chat, content: { type: 'text', text: body }, ...extra };
}

beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-registry-'));
  storage = openStorage(dir);
  wa = createFakeWa();
});

afterEach(async () => {
  for (const registry of registries.splice(0)) await registry.stopAll();
  vi.useRealTimers();
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('session registry: sessions', () => {
  it('creates, persists and starts a session; refuses duplicates and bad ids', async () => {
    const registry = makeRegistry();
    const created = await registry.create('shop');
    expect(created.status).toBe('CONNECTING');
    expect(registry.list().map((s) => s.id)).toEqual(['shop']);
    expect(storage.sessions.get('shop')?.autostart).toBe(true);
    await expect(registry.create('shop')).rejects.toMatchObject({ code: 'SESSION_EXISTS' });
    await expect(registry.create('Bad Id')).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    await expect(registry.start('nope')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });

  it('starts boot sessions and persisted autostart sessions, not explicitly stopped ones', async () => {
    const first = makeRegistry();
    await first.startAll(['a', 'b']);
    await first.create('c');
    await first.stop('b');
    await first.stopAll();
    const second = makeRegistry();
    expect(second.list().map((s) => [s.id, s.status])).toEqual([
      ['a', 'STOPPED'],
      ['b', 'STOPPED'],
      ['c', 'STOPPED'],
    ]);
    await second.startAll([]);
    expect(second.list().map((s) => [s.id, s.status])).toEqual([
      ['a', 'CONNECTING'],
      ['b', 'STOPPED'],
      ['c', 'CONNECTING'],
    ]);
  });

  it('logs out one session, wiping only its credentials and abandoning its queued sends', async () => {
    const registry = await connectedRegistry('default');
    await registry.create('other');
    await settle();
    wa.session('other').open({ jid: '15550000002' });
    storage.auth.open('default').saveCreds();
    storage.auth.open('other').saveCreds();
    wa.session('default').hangNextSend();
    const hung = send(registry, text('s1', ALICE, 'one'));
    const queued = send(registry, text('s2', ALICE, 'two'));
    const outcomes = Promise.allSettled([hung, queued]);
    await settle();
    const session = await registry.logout('default');
    expect(session.status).toBe('LOGGED_OUT');
    expect(storage.auth.sessionIds()).toEqual(['other']);
    expect(registry.get('other')?.status).toBe('CONNECTED');
    const [first, second] = await outcomes;
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'SESSION_NOT_CONNECTED' } });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'SESSION_NOT_CONNECTED' } });
    expect(storage.outbox.size()).toBe(0);
  });

  it('abandons queued sends when the phone logs the session out', async () => {
    const registry = await connectedRegistry();
    wa.session('default').hangNextSend();
    const outcome = send(registry, text('s1', ALICE, 'one')).catch((error: unknown) => error);
    await settle();
    wa.session('default').close(401);
    expect(registry.get('default')?.status).toBe('LOGGED_OUT');
    expect(await outcome).toMatchObject({ code: 'SESSION_NOT_CONNECTED', retryable: false });
    expect(storage.outbox.size()).toBe(0);
    expect(storage.commands.get('s1')?.result).toMatchObject({ ok: false });
  });

  it('relays journaled entries and dashboard events to listeners, and survives a throwing listener', async () => {
    const registry = await connectedRegistry();
    const seqs: number[] = [];
    registry.on('journaled', () => {
      throw new Error('listener bug');
    });
    registry.on('journaled', (entry) => seqs.push(entry.seq));
    const previews: string[] = [];
    registry.on('message:received', (summary) => previews.push(summary.preview));
    wa.session('default').receiveText({ from: ALICE, text: 'hello bot' });
    expect(seqs).toHaveLength(1);
    expect(previews).toEqual(['hello bot']);
  });
});

describe('session registry: cluster ownership', () => {
  it('refuses, retryably, to create or start a session whose lease another daemon holds, and connects nothing', async () => {
    const registry = makeRegistry({ ownership: { epochOf: () => undefined, claim: () => Promise.resolve(false), known: () => Promise.resolve(false) } });
    await expect(registry.create('held')).rejects.toMatchObject({ code: 'SESSION_NOT_CONNECTED', retryable: true });
    await expect(registry.start('held')).rejects.toMatchObject({ code: 'SESSION_NOT_CONNECTED', retryable: true });
    expect(wa.session('held').sockets).toHaveLength(0);
  });
});

describe('session registry: staggered start', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `s${String(i).padStart(2, '0')}`);

  function persistAll(): void {
    for (const id of ids) storage.sessions.save({ id, status: 'STOPPED', autostart: true, updatedAt: Date.now() });
  }

  /** Sessions with a socket that is neither open nor closed yet: the ones holding a connect slot. */
  function inFlight(registry: SessionRegistry): string[] {
    return registry.list().filter((s) => s.status === 'CONNECTING' && s.queuedAt === undefined).map((s) => s.id);
  }

  const sockets = () => ids.reduce((sum, id) => sum + wa.session(id).sockets.length, 0);

  it('connects 20 sessions at most 4 at a time, with jitter, the waiting ones visible as queued', async () => {
    persistAll();
    const registry = makeRegistry({ start: { concurrency: 4, jitterMs: 500 }, random: () => 0.5 });
    const queuedSeen = new Set<string>();
    registry.on('session:changed', (session) => {
      if (session.status === 'CONNECTING' && session.queuedAt !== undefined) queuedSeen.add(session.id);
    });
    await registry.startAll([]);
    await settle();
    expect(registry.list().every((s) => s.status === 'CONNECTING')).toBe(true);
    expect(inFlight(registry)).toEqual(['s00', 's01', 's02', 's03']);
    expect(registry.list().filter((s) => s.queuedAt !== undefined)).toHaveLength(16);
    expect(queuedSeen.size).toBe(20);
    expect(sockets()).toBe(4);

    // A slot freed by an open connection goes to the next session after its jitter (0.5 × 500 ms).
    wa.session('s00').open({ jid: '15550000000' });
    await vi.advanceTimersByTimeAsync(249);
    expect(sockets()).toBe(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets()).toBe(5);
    expect(inFlight(registry)).toEqual(['s01', 's02', 's03', 's04']);

    let most = 0;
    for (let round = 0; round < 40 && registry.list().some((s) => s.status !== 'CONNECTED'); round += 1) {
      for (const id of inFlight(registry)) wa.session(id).open({ jid: `1555000${id.slice(1).padStart(4, '0')}` });
      await vi.advanceTimersByTimeAsync(250);
      most = Math.max(most, inFlight(registry).length);
    }
    expect(most).toBe(4);
    expect(registry.list().map((s) => s.status)).toEqual(ids.map(() => 'CONNECTED'));
    expect(registry.list().filter((s) => s.queuedAt !== undefined)).toEqual([]);
    expect(sockets()).toBe(20);
  });

  it('skips a session stopped while queued, lets one started by hand jump the queue, and frees a stuck slot', async () => {
    persistAll();
    const registry = makeRegistry({ start: { concurrency: 2, jitterMs: 0, slotTimeoutMs: 5_000 } });
    await registry.startAll([]);
    await settle();
    expect(inFlight(registry)).toEqual(['s00', 's01']);
    await registry.stop('s02');
    await registry.start('s19');
    await settle();
    expect(inFlight(registry)).toEqual(['s00', 's01', 's19']);
    expect(registry.get('s02')).toMatchObject({ status: 'STOPPED' });
    expect(registry.get('s02')?.queuedAt).toBeUndefined();

    // s00 shows a QR (it waits for a human, not for a slot); s01 never answers.
    wa.session('s00').qr();
    await settle();
    expect(inFlight(registry)).toEqual(['s01', 's03', 's19']);
    // After 5 s the slots of s01 and s03 (both still connecting) go to the next two.
    await vi.advanceTimersByTimeAsync(4_999);
    expect(inFlight(registry)).toEqual(['s01', 's03', 's19']);
    await vi.advanceTimersByTimeAsync(1);
    expect(inFlight(registry)).toEqual(['s01', 's03', 's04', 's05', 's19']);
    expect(wa.session('s02').sockets).toHaveLength(0);
    expect(wa.session('s19').sockets).toHaveLength(1);
  });

  it('connects a queued session at once when a pairing code is asked for', async () => {
    persistAll();
    const registry = makeRegistry({ start: { concurrency: 1, jitterMs: 0 } });
    await registry.startAll([]);
    await settle();
    expect(registry.get('s10')?.queuedAt).toBeDefined();
    const code = registry.requestPairingCode('s10', '4915123456789');
    await settle();
    expect(registry.get('s10')?.queuedAt).toBeUndefined();
    wa.session('s10').qr();
    await expect(code).resolves.toBe('FAKE1234');
    expect(inFlight(registry)).toEqual(['s00']);
  });

  it('drops the waiting starts on stopAll', async () => {
    persistAll();
    const registry = makeRegistry({ start: { concurrency: 3, jitterMs: 100 } });
    await registry.startAll([]);
    await registry.stopAll();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets()).toBe(3);
    expect(registry.list().every((s) => s.status === 'STOPPED' && s.queuedAt === undefined)).toBe(true);
    expect(ids.every((id) => storage.sessions.get(id)?.autostart)).toBe(true);
  });
});

describe('session registry: sends', () => {
  it('paces sends per chat and per session, oldest first', async () => {
    const registry = await connectedRegistry();
    const started = Date.now();
    const sends = [send(registry, text('a1', ALICE, 'a1')), send(registry, text('a2', ALICE, 'a2')), send(registry, text('b1', BOB, 'b1'))];
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(sends);
    const sent = wa.session('default').sent.map((s) => [s.jid, 'text' in s.content ? s.content.text : '?', s.at - started]);
    // random() = 0: chat gap 1000 ms, session gap 250 ms, no jitter.
    expect(sent).toEqual([
      [ALICE, 'a1', 0],
      [BOB, 'b1', 250],
      [ALICE, 'a2', 1000],
    ]);
  });

  it('adds jitter within the configured bound', async () => {
    const registry = await connectedRegistry('default', { random: () => 0.5, pacing: { chatGapMs: 2_000, chatJitterMs: 1_000, sessionGapMs: 0, sessionJitterMs: 0 } });
    const started = Date.now();
    const sends = [send(registry, text('a1', ALICE, 'a1')), send(registry, text('a2', ALICE, 'a2'))];
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(sends);
    expect(wa.session('default').sent.map((s) => s.at - started)).toEqual([0, 2_500]);
  });

  describe('replies to a user skip the spacing within a burst budget', () => {
    /** Offsets from `started` at which the fake socket sent, in order. */
    const offsets = (started: number) => wa.session('default').sent.map((s) => [s.jid, s.at - started]);

    it('sends replies within the chat budget at once and spaces the ones beyond it', async () => {
      const registry = await connectedRegistry();
      const incoming = wa.session('default').receiveText({ from: ALICE, text: '!s' });
      const started = Date.now();
      const sends = [1, 2, 3, 4, 5, 6].map((n) => send(registry, text(`r${n}`, ALICE, `reply ${n}`, { quotedId: incoming.key.id ?? '' })));
      await vi.advanceTimersByTimeAsync(5_000);
      await Promise.all(sends);
      // Budget 5: five at once, the sixth after the normal chat gap (1000 ms, random() = 0).
      expect(offsets(started)).toEqual([[ALICE, 0], [ALICE, 0], [ALICE, 0], [ALICE, 0], [ALICE, 0], [ALICE, 1_000]]);
    });

    it('counts a reaction to the user message as a reply, and keeps the chat order', async () => {
      const registry = await connectedRegistry();
      const incoming = wa.session('default').receiveText({ from: ALICE, text: '!s' });
      const id = incoming.key.id ?? '';
      const started = Date.now();
      const sends = [
        send(registry, { id: 'wait', sessionId: 'default', chat: ALICE, content: { type: 'reaction', messageId: id, emoji: '⏳' } }),
        send(registry, text('answer', ALICE, 'here', { quotedId: id })),
        send(registry, { id: 'done', sessionId: 'default', chat: ALICE, content: { type: 'reaction', messageId: id, emoji: '✅' } }),
      ];
      await vi.advanceTimersByTimeAsync(0);
      await Promise.all(sends);
      const sent = wa.session('default').sent;
      expect(sent.map((s) => ('react' in s.content ? s.content.react.text : 'text'))).toEqual(['⏳', 'text', '✅']);
      expect(sent.map((s) => s.at - started)).toEqual([0, 0, 0]);
    });

    it('keeps the budgets of chats apart', async () => {
      const registry = await connectedRegistry();
      const fromAlice = wa.session('default').receiveText({ from: ALICE, text: '!s' });
      const fromBob = wa.session('default').receiveText({ from: BOB, text: '!ping' });
      const started = Date.now();
      const sends = [1, 2, 3, 4, 5, 6].map((n) => send(registry, text(`a${n}`, ALICE, `a${n}`, { quotedId: fromAlice.key.id ?? '' })));
      sends.push(send(registry, text('b1', BOB, 'pong', { quotedId: fromBob.key.id ?? '' })));
      await vi.advanceTimersByTimeAsync(5_000);
      await Promise.all(sends);
      // Alice spent her chat's budget; Bob's reply still goes at once.
      expect(offsets(started).filter(([jid]) => jid === BOB)).toEqual([[BOB, 0]]);
      expect(offsets(started).filter(([jid]) => jid === ALICE).at(-1)).toEqual([ALICE, 1_000]);
    });

    it('bounds replies across chats by the session budget', async () => {
      const registry = await connectedRegistry('default', { pacing: { sessionReplyBurst: 2 } });
      const chats = [ALICE, BOB, '4915100000003@s.whatsapp.net'];
      const started = Date.now();
      const sends = chats.map((chat, n) => {
        const incoming = wa.session('default').receiveText({ from: chat, text: '!ping' });
        return send(registry, text(`p${n}`, chat, 'pong', { quotedId: incoming.key.id ?? '' }));
      });
      await vi.advanceTimersByTimeAsync(2_000);
      await Promise.all(sends);
      // Two at once; the third waits for the session gap (250 ms, random() = 0) the second one set.
      expect(offsets(started).map(([, at]) => at)).toEqual([0, 0, 250]);
    });

    it('paces sends that answer nobody recent: unsolicited, an old message, another chat, its own message', async () => {
      const registry = await connectedRegistry();
      const old = wa.session('default').receiveText({ from: ALICE, text: '!s' });
      await vi.advanceTimersByTimeAsync(121_000);
      const fromBob = wa.session('default').receiveText({ from: BOB, text: '!s' });
      const started = Date.now();
      const sends = [
        send(registry, text('u1', ALICE, 'news')),
        send(registry, text('u2', ALICE, 'to an old message', { quotedId: old.key.id ?? '' })),
        send(registry, text('u3', ALICE, "quoting Bob's message elsewhere", { quotedId: fromBob.key.id ?? '' })),
      ];
      await vi.advanceTimersByTimeAsync(5_000);
      await Promise.all(sends);
      const mine = send(registry, text('u4', ALICE, 'mine'));
      await vi.advanceTimersByTimeAsync(2_000);
      const own = (await mine).messageId;
      const reactedAt = Date.now();
      const reacts = [1, 2].map((n) => send(registry, { id: `own${n}`, sessionId: 'default', chat: ALICE, content: { type: 'reaction', messageId: own, emoji: '👍', fromMe: true } }));
      await vi.advanceTimersByTimeAsync(5_000);
      await Promise.all(reacts);
      expect(offsets(started).slice(0, 3)).toEqual([[ALICE, 0], [ALICE, 1_000], [ALICE, 2_000]]);
      expect(wa.session('default').sent.slice(4).map((s) => s.at - reactedAt)).toEqual([0, 1_000]);
    });
  });

  it('sends a repeated command id once: joins the queued send, and records the outcome with the arguments hash', async () => {
    const registry = await connectedRegistry();
    const args = text('same-id', ALICE, 'only once');
    const [a, b] = await Promise.all([send(registry, args), send(registry, args)]);
    expect(a).toEqual(b);
    expect(wa.session('default').sent).toHaveLength(1);
    expect(a.messageId).toBe(messageIdFor('default', 'same-id'));
    expect(storage.commands.get('same-id')).toMatchObject({ op: 'message:send', sessionId: 'default', argsHash: commandArgsHash(args), result: { ok: true, result: a } });
  });

  it('quotes a journaled message and reacts to one with its original key', async () => {
    const registry = await connectedRegistry();
    const incoming = wa.session('default').receiveText({ from: '4915100000001', chat: '120363000000000001@g.us', text: '!sticker' });
    await send(registry, { id: 'reply', sessionId: 'default', chat: '120363000000000001@g.us', content: { type: 'text', text: 'here' }, quotedId: incoming.key.id ?? '' });
    await vi.advanceTimersByTimeAsync(2_000);
    await send(registry, {
      id: 'react',
      sessionId: 'default',
      chat: '120363000000000001@g.us',
      content: { type: 'reaction', messageId: incoming.key.id ?? '', emoji: '✅' },
    });
    const [reply, reaction] = wa.session('default').sent;
    expect(reply?.options?.quoted?.key).toEqual(incoming.key);
    expect(reaction?.content).toEqual({ react: { text: '✅', key: incoming.key } });
    await expect(send(registry, text('bad-quote', ALICE, 'x', { quotedId: 'UNKNOWN' }))).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
  });

  it('sends media as binary with the sticker animation flag', async () => {
    const registry = await connectedRegistry();
    const webp = Buffer.from('RIFF....WEBP');
    await send(registry, { id: 'st', sessionId: 'default', chat: ALICE, content: { type: 'sticker', data: webp, animated: true } });
    expect(wa.session('default').sent[0]?.content).toEqual({ sticker: webp, isAnimated: true });
  });

  it('refuses sends beyond the queue bound with RATE_LIMITED', async () => {
    const registry = await connectedRegistry('default', { maxQueuedSends: 2 });
    const first = send(registry, text('q1', ALICE, '1'));
    const second = send(registry, text('q2', ALICE, '2'));
    await expect(send(registry, text('q3', ALICE, '3'))).rejects.toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all([first, second]);
    await expect(send(registry, text('q4', ALICE, '4'))).resolves.toMatchObject({ messageId: messageIdFor('default', 'q4') });
  });

  it('refuses a send on a session that is not connected', async () => {
    const registry = makeRegistry();
    await registry.create('default');
    await expect(send(registry, text('early', ALICE, 'hi'))).rejects.toMatchObject({ code: 'SESSION_NOT_CONNECTED', retryable: true });
    expect(storage.outbox.size()).toBe(0);
  });

  it('retries a send WhatsApp did not answer within 30 s under the same message id', async () => {
    const registry = await connectedRegistry();
    wa.session('default').hangNextSend();
    const pending = send(registry, text('slow', ALICE, 'eventually'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(wa.session('default').sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2_000);
    const result = await pending;
    expect(wa.session('default').sent).toHaveLength(1);
    expect(result.messageId).toBe(messageIdFor('default', 'slow'));
    expect(wa.session('default').sent[0]?.options?.messageId).toBe(result.messageId);
  });

  it('answers a slow send that arrives within the deadline', async () => {
    const registry = await connectedRegistry();
    wa.session('default').delayNextSend(10_000);
    const pending = send(registry, text('slowish', ALICE, 'hi'));
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(pending).resolves.toMatchObject({ messageId: messageIdFor('default', 'slowish') });
  });

  it('records a send WhatsApp refuses as failed and does not retry it', async () => {
    const registry = await connectedRegistry();
    wa.session('default').failNextSend(new FakeBoom('not-acceptable', 406));
    await expect(send(registry, text('refused', ALICE, 'x'))).rejects.toMatchObject({ code: 'INVALID_ARGS', retryable: false });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(wa.session('default').sent).toHaveLength(0);
    expect(storage.commands.get('refused')?.result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGS' } });
  });

  it('resumes the persistent queue after a daemon restart (real SQLite file)', async () => {
    const first = await connectedRegistry();
    wa.session('default').hangNextSend();
    const pending = send(first, text('survivor', ALICE, 'after restart'));
    const outcome = pending.catch((error: unknown) => error);
    await settle();
    await first.stopAll();
    expect(await outcome).toMatchObject({ code: 'SHUTTING_DOWN' });
    storage.close();

    storage = openStorage(dir);
    expect(storage.outbox.pending('default').map((i) => i.commandId)).toEqual(['survivor']);
    const second = makeRegistry();
    await second.startAll([]);
    await settle();
    expect(second.get('default')?.status).toBe('CONNECTED');
    const [delivered] = await wa.session('default').waitForSent(1);
    expect(delivered?.content).toEqual({ text: 'after restart' });
    expect(storage.outbox.size()).toBe(0);
    // Nobody waited for it in this run: the queue recorded its outcome for the repeat to find.
    expect(storage.commands.get('survivor')).toMatchObject({
      argsHash: commandArgsHash(text('survivor', ALICE, 'after restart')),
      result: { ok: true, result: { messageId: delivered?.message.key.id } },
    });
    expect(wa.session('default').sent).toHaveLength(1);
  });
});

describe('session registry: other commands', () => {
  it('downloads journaled media, refusing declared sizes over the cap before downloading', async () => {
    const registry = await connectedRegistry();
    const image = wa.session('default').receiveImage({ from: ALICE, data: Buffer.from('jpeg-bytes') });
    const result = await registry.downloadMedia({ id: 'd1', sessionId: 'default', messageId: image.key.id ?? '' });
    expect(Buffer.from(result.data).toString()).toBe('jpeg-bytes');
    expect(result).toMatchObject({ mimetype: 'image/jpeg', size: 10 });

    const huge = wa.session('default').receiveVideo({ from: ALICE, data: Buffer.from('x'), declaredSize: 50 * MB });
    await expect(registry.downloadMedia({ id: 'd2', sessionId: 'default', messageId: huge.key.id ?? '' })).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });
    expect(wa.session('default').calls.filter((c) => c.method === 'downloadMedia')).toHaveLength(1);
    await expect(registry.downloadMedia({ id: 'd3', sessionId: 'default', messageId: 'NOPE' })).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
  });

  it('times a media download out after 60 s', async () => {
    const registry = await connectedRegistry();
    const video = wa.session('default').receiveVideo({ from: ALICE, data: Buffer.from('mp4') });
    wa.session('default').media.set(video.key.id ?? '', { data: Buffer.from('mp4'), delayMs: 120_000 });
    const pending = registry.downloadMedia({ id: 'd1', sessionId: 'default', messageId: video.key.id ?? '' });
    const outcome = expect(pending).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
    await vi.advanceTimersByTimeAsync(60_000);
    await outcome;
  });

  it('times a number lookup out after 12 s and a group metadata fetch after 12 s', async () => {
    const registry = await connectedRegistry();
    wa.session('default').delayNextCall('onWhatsApp', Infinity);
    wa.session('default').delayNextCall('groupMetadata', 20_000);
    let settled = 0;
    const lookupCall = registry.lookupContacts({ id: 'l', sessionId: 'default', phones: ['4915100000001'] }).finally(() => (settled += 1));
    const groupCall = registry.groupMetadata({ id: 'g', sessionId: 'default', chat: '1@g.us' }).finally(() => (settled += 1));
    const lookup = expect(lookupCall).rejects.toMatchObject({ code: 'TIMEOUT' });
    const group = expect(groupCall).rejects.toMatchObject({ code: 'TIMEOUT' });
    await vi.advanceTimersByTimeAsync(11_999);
    expect(settled).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await lookup;
    await group;
  });

  it('opens the circuit after 5 consecutive failures and fails fast with CIRCUIT_OPEN', async () => {
    const registry = await connectedRegistry();
    const image = wa.session('default').receiveImage({ from: ALICE, data: Buffer.from('jpeg') });
    wa.session('default').media.clear();
    const args = { id: 'd', sessionId: 'default', messageId: image.key.id ?? '' };
    for (let i = 0; i < 5; i += 1) await expect(registry.downloadMedia(args)).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(registry.downloadMedia(args)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', retryable: true });
    await expect(send(registry, text('blocked', ALICE, 'x'))).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(wa.session('default').calls.filter((c) => c.method === 'downloadMedia')).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(send(registry, text('after', ALICE, 'x'))).resolves.toMatchObject({ messageId: expect.any(String) as string });
  });

  it('looks up numbers, reads messages, sends presence and fetches group metadata', async () => {
    const registry = await connectedRegistry();
    wa.session('default').setExistingNumbers(['4915100000001']);
    await expect(registry.lookupContacts({ id: 'l', sessionId: 'default', phones: ['4915100000001', '4915100000009'] })).resolves.toEqual({
      contacts: [
        { phone: '4915100000001', exists: true, jid: ALICE },
        { phone: '4915100000009', exists: false },
      ],
    });
    await expect(registry.readMessages({ id: 'r', sessionId: 'default', chat: ALICE, messageIds: ['M1', 'M2'] })).resolves.toEqual({ count: 2 });
    await expect(registry.sendPresence({ id: 'p', sessionId: 'default', presence: 'composing' })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    await registry.sendPresence({ id: 'p', sessionId: 'default', presence: 'composing', chat: ALICE });
    wa.session('default').groups.set('1203630@g.us', {
      id: '1203630@g.us',
      subject: 'Stickers',
      owner: ALICE,
      creation: 1_700_000_000,
      participants: [{ id: ALICE, admin: 'superadmin' }, { id: BOB }],
    });
    await expect(registry.groupMetadata({ id: 'g', sessionId: 'default', chat: '1203630@g.us' })).resolves.toEqual({
      jid: '1203630@g.us',
      subject: 'Stickers',
      owner: ALICE,
      createdAt: 1_700_000_000_000,
      participants: [{ jid: ALICE, admin: 'superadmin' }, { jid: BOB }],
    });
    await expect(registry.groupMetadata({ id: 'g2', sessionId: 'default', chat: '999@g.us' })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
  });
});
