import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AuthenticationState } from '@whiskeysockets/baileys';
import type { WaSocketEvents } from '../sessions/wa-socket.js';
import { createFakeWa } from './fake-wa-session.js';
import { FAKE_DISCONNECT } from './fake-wa-socket.js';

const logger = pino({ level: 'silent' });
const auth = {} as AuthenticationState;

describe('fake WhatsApp socket', () => {
  it('emits connecting, QR, open and close with the scripted reason', async () => {
    const wa = createFakeWa();
    const socket = wa.factory({ sessionId: 's1', auth, logger });
    const updates: WaSocketEvents['connection.update'][] = [];
    socket.ev.on('connection.update', (update) => updates.push(update));
    await wa.session('s1').waitForSocket();
    wa.session('s1').qr('qr-1');
    wa.session('s1').open({ jid: '4915100000009', name: 'Bot' });
    expect(socket.user?.id).toBe('4915100000009:1@s.whatsapp.net');
    wa.session('s1').close(FAKE_DISCONNECT.connectionLost);
    expect(updates.map((u) => u.connection ?? u.qr)).toEqual(['connecting', 'qr-1', 'open', 'close']);
    const error = updates[3]?.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined;
    expect(error?.output?.statusCode).toBe(408);
  });

  it('re-opens a linked session by itself and records sends with a server ack', async () => {
    const wa = createFakeWa();
    const first = wa.factory({ sessionId: 's1', auth, logger });
    await wa.session('s1').waitForSocket();
    wa.session('s1').open();
    await first.end(undefined);
    const second = wa.factory({ sessionId: 's1', auth, logger });
    const opened = new Promise<void>((resolve) => second.ev.on('connection.update', (u) => u.connection === 'open' && resolve()));
    await opened;
    const acks: string[] = [];
    second.ws.on('message-ack', (id) => acks.push(id));
    const sent = await second.sendMessage('4915100000001@s.whatsapp.net', { text: 'hi' });
    await Promise.resolve();
    expect(wa.session('s1').sent.map((s) => s.content)).toEqual([{ text: 'hi' }]);
    expect(acks).toEqual([sent?.key.id]);
  });

  it('opens linked sessions by themselves, without a QR', async () => {
    const wa = createFakeWa({ linked: true });
    const socket = wa.factory({ sessionId: 'auto', auth, logger });
    const opened = new Promise<void>((resolve) => socket.ev.on('connection.update', (u) => u.connection === 'open' && resolve()));
    await opened;
    expect(socket.user?.id).toBe('15550000001:1@s.whatsapp.net');
    const other = createFakeWa();
    other.session('x').link({ jid: '4915100000005' });
    const linked = other.factory({ sessionId: 'x', auth, logger });
    await new Promise<void>((resolve) => linked.ev.on('connection.update', (u) => u.connection === 'open' && resolve()));
    expect(linked.user?.id).toBe('4915100000005:1@s.whatsapp.net');
  });

  it('serves downloaded media bytes and scripted send failures', async () => {
    const wa = createFakeWa();
    const socket = wa.factory({ sessionId: 's1', auth, logger });
    await wa.session('s1').waitForSocket();
    wa.session('s1').open();
    const upserts: WaSocketEvents['messages.upsert'][] = [];
    socket.ev.on('messages.upsert', (u) => upserts.push(u));
    const msg = wa.session('s1').receiveGif({ from: '4915100000001', data: Buffer.from('gif-bytes'), backlog: true });
    expect(upserts[0]?.type).toBe('append');
    expect(msg.message?.videoMessage?.gifPlayback).toBe(true);
    expect((await socket.downloadMedia(msg)).toString()).toBe('gif-bytes');
    wa.session('s1').failNextSend();
    await expect(socket.sendMessage('1@s.whatsapp.net', { text: 'x' })).rejects.toThrow('fake send failure');
  });
});
