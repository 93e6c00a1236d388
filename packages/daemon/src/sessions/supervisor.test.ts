import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JournalEntry, Session, SessionErrorPayload, SessionQr } from '@stickerbot/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RegistryEmit } from './event-journaler.js';
import type { SessionRegistryEvents } from '../session-registry.js';
import { createSessionSupervisor } from './supervisor.js';
import type { SessionSupervisor, SupervisorOptions } from './supervisor-types.js';
import { openStorage, type Storage } from '../storage/index.js';
import { createFakeWa, type FakeWa } from '../test-kit/fake-wa-session.js';
import { FAKE_DISCONNECT } from '../test-kit/fake-wa-socket.js';

const logger = pino({ level: 'silent' });

interface Harness {
  wa: FakeWa;
  storage: Storage;
  events: { [E in keyof SessionRegistryEvents]: SessionRegistryEvents[E][0][] };
  supervisor(id?: string, options?: SupervisorOptions): SessionSupervisor;
  reconnects: string[];
}

let dir: string;
let h: Harness;

function makeHarness(): Harness {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-supervisor-'));
  const storage = openStorage(dir);
  const wa = createFakeWa();
  const events: Harness['events'] = { 'session:changed': [], 'session:qr': [], 'session:error': [], 'message:received': [], journaled: [] };
  const emit: RegistryEmit = (event, ...args) => {
    (events[event] as unknown[]).push(args[0]);
  };
  const reconnects: string[] = [];
  return {
    wa,
    storage,
    events,
    reconnects,
    supervisor: (id = 'default', options = {}) =>
      createSessionSupervisor({
        sessionId: id,
        socketFactory: wa.factory,
        authStore: storage.auth,
        sessionStore: storage.sessions,
        journal: storage.journal,
        logger,
        emit,
        metrics: { reconnect: (reason) => reconnects.push(reason) },
        options: { backoff: { random: () => 0.5 }, ...options },
      }),
  };
}

/** Lets the fake's microtasks (connecting, auto-open) and QR rendering run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await vi.advanceTimersByTimeAsync(0);
}

async function connected(supervisor: SessionSupervisor, id = 'default'): Promise<void> {
  await supervisor.start();
  await settle();
  h.wa.session(id).open({ jid: '4915100000099', name: 'Bot' });
  expect(supervisor.status).toBe('CONNECTED');
}

beforeEach(() => {
  vi.useFakeTimers();
  h = makeHarness();
});

afterEach(() => {
  vi.useRealTimers();
  h.storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('session supervisor: login', () => {
  it('goes STOPPED → CONNECTING → QR_REQUIRED → CONNECTED and persists and journals each state', async () => {
    const supervisor = h.supervisor();
    expect(supervisor.status).toBe('STOPPED');
    await supervisor.start();
    expect(supervisor.status).toBe('CONNECTING');
    await settle();
    const shownAt = Date.now();
    h.wa.session('default').qr('qr-one');
    expect(supervisor.status).toBe('QR_REQUIRED');
    await vi.waitFor(() => expect(h.events['session:qr']).toHaveLength(1));
    const qr: SessionQr | undefined = h.events['session:qr'][0];
    expect(qr?.qr).toBe('qr-one');
    expect(qr?.dataUrl.startsWith('data:image/png;base64,')).toBe(true);
    expect(qr?.expiresAt).toBe(shownAt + 60_000);
    expect(supervisor.currentQr()?.qr).toBe('qr-one');

    h.wa.session('default').open({ jid: '4915100000099', name: 'Bot' });
    expect(supervisor.snapshot()).toMatchObject({
      status: 'CONNECTED',
      account: { jid: '4915100000099@s.whatsapp.net', phone: '4915100000099', name: 'Bot' },
      reconnectAttempts: 0,
    });
    expect(h.storage.sessions.get('default')).toMatchObject({ status: 'CONNECTED', autostart: true });
    const journaled = h.storage.journal.readAfter(0, 100).map((e) => (e.event.type === 'session:changed' ? e.event.session.status : e.event.type));
    expect(journaled).toEqual(['CONNECTING', 'QR_REQUIRED', 'CONNECTED']);
    expect(h.events['session:changed'].map((s) => s.status)).toEqual(['CONNECTING', 'QR_REQUIRED', 'CONNECTED']);
  });

  it('gives a rotated QR the shorter expiry', async () => {
    const supervisor = h.supervisor();
    await supervisor.start();
    await settle();
    const shownAt = Date.now();
    h.wa.session('default').qr('qr-one');
    h.wa.session('default').qr('qr-two');
    await vi.waitFor(() => expect(h.events['session:qr'].at(-1)?.qr).toBe('qr-two'));
    expect(h.events['session:qr'].at(-1)?.expiresAt).toBe(shownAt + 20_000);
    expect(supervisor.currentQr()?.qr).toBe('qr-two');
    expect(h.events['session:changed'].map((s) => s.status)).toEqual(['CONNECTING', 'QR_REQUIRED']);
  });

  it('issues a pairing code once the socket is ready for a login', async () => {
    const supervisor = h.supervisor();
    const pending = supervisor.requestPairingCode('4915100000099');
    await settle();
    h.wa.session('default').qr();
    await expect(pending).resolves.toBe('FAKE1234');
    expect(h.wa.session('default').calls).toContainEqual({ method: 'requestPairingCode', args: ['4915100000099'] });
  });
});

describe('session supervisor: disconnect policy', () => {
  it('reconnects at once on restartRequired (after pairing) without counting a backoff attempt', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    h.wa.session('default').close(FAKE_DISCONNECT.restartRequired);
    expect(h.wa.session('default').connects).toBe(2);
    expect(supervisor.status).toBe('RECONNECTING');
    await settle();
    expect(supervisor.snapshot()).toMatchObject({ status: 'CONNECTED', reconnectAttempts: 0, lastDisconnect: 'restartRequired' });
    expect(h.reconnects).toEqual(['restartRequired']);
  });

  it('wipes only this session on loggedOut and does not reconnect', async () => {
    const other = h.supervisor('other');
    await connected(other, 'other');
    h.storage.auth.open('other').saveCreds();
    const supervisor = h.supervisor();
    await connected(supervisor);
    h.storage.auth.open('default').saveCreds();
    expect(h.storage.auth.sessionIds()).toEqual(['default', 'other']);

    h.wa.session('default').close(FAKE_DISCONNECT.loggedOut);
    expect(supervisor.snapshot()).toMatchObject({ status: 'LOGGED_OUT', lastDisconnect: 'loggedOut' });
    expect(supervisor.snapshot().account).toBeUndefined();
    expect(h.storage.auth.sessionIds()).toEqual(['other']);
    expect(h.storage.sessions.get('default')?.autostart).toBe(false);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(h.wa.session('default').connects).toBe(1);
    expect(other.status).toBe('CONNECTED');
  });

  it('stops and reports a conflict on connectionReplaced instead of fighting the other client', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    h.wa.session('default').close(FAKE_DISCONNECT.connectionReplaced);
    expect(supervisor.status).toBe('ERROR');
    expect(supervisor.snapshot().lastError?.message).toMatch(/^Conflict/);
    expect(h.events['session:error'].map((e: SessionErrorPayload) => e.error.message)).toEqual([expect.stringMatching(/Conflict/)]);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(h.wa.session('default').connects).toBe(1);
    expect(h.storage.auth.sessionIds()).toEqual([]);
  });

  it.each([
    ['badSession', FAKE_DISCONNECT.badSession, /^Bad session/],
    ['multideviceMismatch', FAKE_DISCONNECT.multideviceMismatch, /^Multi-device/],
    ['versionRefused', FAKE_DISCONNECT.versionRefused, /version/],
  ])('reports %s and stops in ERROR', async (reason, code, message) => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    h.wa.session('default').close(code);
    expect(supervisor.snapshot()).toMatchObject({ status: 'ERROR', lastDisconnect: reason });
    expect(supervisor.snapshot().lastError?.message).toMatch(message);
    expect(h.events['session:error']).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(h.wa.session('default').connects).toBe(1);
  });

  it.each([
    ['connectionLost', FAKE_DISCONNECT.connectionLost],
    ['connectionClosed', FAKE_DISCONNECT.connectionClosed],
    ['unavailableService', FAKE_DISCONNECT.unavailableService],
    ['status 418', 418],
  ])('reconnects after %s with exponential backoff and full jitter', async (reason, code) => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    h.wa.session('default').close(code);
    const session: Session = supervisor.snapshot();
    expect(session).toMatchObject({ status: 'RECONNECTING', reconnectAttempts: 1, lastDisconnect: reason, nextRetryAt: Date.now() + 500 });
    await vi.advanceTimersByTimeAsync(499);
    expect(h.wa.session('default').connects).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.wa.session('default').connects).toBe(2);
    // The fresh socket is closed again before it opens: the next wait doubles.
    h.wa.session('default').close(code);
    expect(supervisor.snapshot()).toMatchObject({ reconnectAttempts: 2, nextRetryAt: Date.now() + 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(supervisor.status).toBe('CONNECTED');
    expect(h.reconnects).toEqual([reason, reason]);
    expect(h.events['session:error'].map((e) => [e.error.code, e.error.retryable])).toEqual([
      ['SESSION_NOT_CONNECTED', true],
      ['SESSION_NOT_CONNECTED', true],
    ]);
  });

  it('caps the delay at 60 s and resets the backoff after a stable minute', async () => {
    const supervisor = h.supervisor('default', { backoff: { random: () => 0.999 } });
    await connected(supervisor);
    h.wa.session('default').autoAck = true;
    for (let i = 0; i < 8; i += 1) {
      h.wa.session('default').close(FAKE_DISCONNECT.connectionLost);
      const wait = (supervisor.snapshot().nextRetryAt ?? 0) - Date.now();
      expect(wait).toBeLessThanOrEqual(60_000);
      await vi.advanceTimersByTimeAsync(wait);
      await settle();
    }
    expect(supervisor.snapshot().reconnectAttempts).toBe(8);
    expect(supervisor.status).toBe('CONNECTED');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(supervisor.snapshot().reconnectAttempts).toBe(0);
    h.wa.session('default').close(FAKE_DISCONNECT.connectionLost);
    expect((supervisor.snapshot().nextRetryAt ?? 0) - Date.now()).toBe(999);
  });
});

describe('session supervisor: deaf connections', () => {
  it('recycles a socket that stops receiving frames, reports it, and reconnects', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.wa.session('default').connects).toBe(1);
    h.wa.session('default').goDeaf();
    await vi.advanceTimersByTimeAsync(85_000);
    expect(h.events['session:error'].map((e) => [e.error.code, e.error.retryable])).toEqual([['TIMEOUT', true]]);
    expect(h.events['session:error'][0]?.error.message).toMatch(/no frame from WhatsApp/);
    expect(h.wa.session('default').calls.some((c) => c.method === 'end')).toBe(true);
    h.wa.session('default').goDeaf(false);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(h.wa.session('default').connects).toBe(2);
    expect(supervisor.snapshot()).toMatchObject({ status: 'CONNECTED', lastDisconnect: 'zombie' });
    expect(h.reconnects).toEqual(['zombie']);
  });

  it('recycles a socket whose sends never get a server ack', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    h.wa.session('default').autoAck = false;
    const sent = await supervisor.connectedSocket()?.sendMessage('4915100000001@s.whatsapp.net', { text: 'hello?' });
    supervisor.trackSent(sent?.key.id ?? '');
    await vi.advanceTimersByTimeAsync(51_000);
    expect(h.events['session:error'][0]?.error.message).toMatch(/got no server ack/);
  });

  it('does not recycle when acks arrive, even before the send returns', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    const socket = supervisor.connectedSocket();
    for (let i = 0; i < 3; i += 1) {
      const sent = await socket?.sendMessage('4915100000001@s.whatsapp.net', { text: `hi ${i}` });
      supervisor.trackSent(sent?.key.id ?? '');
    }
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.events['session:error']).toEqual([]);
    expect(h.wa.session('default').connects).toBe(1);
  });
});

describe('session supervisor: stuck connection attempts', () => {
  it('recycles an attempt that neither opens, shows a QR nor closes within 60 s', async () => {
    const supervisor = h.supervisor();
    await supervisor.start();
    await settle();
    await vi.advanceTimersByTimeAsync(59_000);
    expect(h.events['session:error']).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.events['session:error'][0]?.error.message).toMatch(/no answer from WhatsApp within 60 s/);
    expect(supervisor.snapshot()).toMatchObject({ status: 'RECONNECTING', lastDisconnect: 'connectTimeout', reconnectAttempts: 1 });
    await vi.advanceTimersByTimeAsync(500);
    expect(h.wa.session('default').connects).toBe(2);
  });

  it('lets a QR stay up past the connect deadline', async () => {
    const supervisor = h.supervisor();
    await supervisor.start();
    await settle();
    h.wa.session('default').qr();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(supervisor.status).toBe('QR_REQUIRED');
    expect(h.wa.session('default').connects).toBe(1);
  });
});

describe('session supervisor: journal first', () => {
  it('has the message in the journal before anyone hears of it, raw kept and backlog flagged', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    const seen: { entry: JournalEntry; inJournal: boolean }[] = [];
    const journal = h.storage.journal;
    const events = h.events;
    events.journaled.push = (...entries: JournalEntry[]) => {
      for (const entry of entries) seen.push({ entry, inJournal: journal.readAfter(entry.seq - 1, 1)[0]?.seq === entry.seq });
      return seen.length;
    };
    const live = h.wa.session('default').receiveText({ from: '4915100000001', text: '!ping', pushName: 'Alice' });
    const old = h.wa.session('default').receiveImage({ from: '4915100000001', data: Buffer.from('img'), caption: '!sticker', backlog: true });
    const messages = seen.filter((s) => s.entry.event.type === 'message:received');
    expect(messages.every((s) => s.inJournal)).toBe(true);
    expect(messages.map((s) => (s.entry.event.type === 'message:received' ? [s.entry.event.message.id, s.entry.event.message.backlog] : []))).toEqual([
      [live.key.id, false],
      [old.key.id, true],
    ]);
    expect(journal.findRawMessage('default', old.key.id ?? '')).toMatchObject({ key: { id: old.key.id }, message: { imageMessage: { caption: '!sticker' } } });
    expect(h.events['message:received'].map((m) => m.preview)).toEqual(['!ping', '!sticker']);
  });

  it('journals receipts, reactions and participant changes', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    const s = h.wa.session('default');
    s.update([{ key: { remoteJid: '4915100000001@s.whatsapp.net', id: 'M1', fromMe: true }, update: { status: 4 } }]);
    s.react({ from: '4915100000001', messageId: 'M1', emoji: '👍' });
    s.participants({ group: '1203630@g.us', action: 'add', participants: ['4915100000002'] });
    const types = h.storage.journal.readAfter(0, 100).map((e) => e.event.type).filter((t) => t !== 'session:changed');
    expect(types).toEqual(['message:updated', 'reaction:received', 'group:participants-changed']);
  });
});

describe('session supervisor: stop and logout', () => {
  it('stops without logging out and keeps the credentials', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    h.storage.auth.open('default').saveCreds();
    await supervisor.stop();
    expect(supervisor.status).toBe('STOPPED');
    expect(h.wa.session('default').calls.map((c) => c.method)).toEqual(['end']);
    expect(h.storage.auth.sessionIds()).toEqual(['default']);
    expect(h.storage.sessions.get('default')?.autostart).toBe(false);
    await supervisor.start();
    await settle();
    expect(supervisor.status).toBe('CONNECTED');
  });

  it('keeps autostart when the daemon shuts down', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    await supervisor.stop({ keepAutostart: true });
    expect(h.storage.sessions.get('default')).toMatchObject({ status: 'STOPPED', autostart: true });
  });

  it('logs out through WhatsApp and wipes the credentials', async () => {
    const supervisor = h.supervisor();
    await connected(supervisor);
    h.storage.auth.open('default').saveCreds();
    await supervisor.logout();
    expect(supervisor.status).toBe('LOGGED_OUT');
    expect(h.wa.session('default').calls.map((c) => c.method)).toContain('logout');
    expect(h.storage.auth.sessionIds()).toEqual([]);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(h.wa.session('default').connects).toBe(1);
  });
});
