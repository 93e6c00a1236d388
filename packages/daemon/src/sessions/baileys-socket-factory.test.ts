import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session, SessionErrorPayload } from '@stickerbot/protocol';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { baileysConfig, createBaileysSocketFactory } from './baileys-socket-factory.js';
import { createSocketCacheRegistry } from './socket-caches.js';
import { createSessionSupervisor } from './supervisor.js';
import type { SessionSupervisor } from './supervisor-types.js';
import { openStorage, type Storage } from '../storage/index.js';

const logger = pino({ level: 'silent' });

interface Loopback {
  url: string;
  /** WebSocket upgrades the server saw. */
  attempts: number;
  close(): Promise<void>;
}

/** A loopback WebSocket server that accepts the upgrade, then drops the connection at once. */
async function droppingServer(): Promise<Loopback> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http });
  const state = { attempts: 0 };
  wss.on('connection', (socket) => {
    state.attempts += 1;
    socket.terminate();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws/chat`,
    get attempts() {
      return state.attempts;
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A loopback HTTP server that refuses the WebSocket upgrade with a status. */
async function refusingServer(status: number): Promise<Loopback> {
  const state = { attempts: 0 };
  const http: Server = createServer((_req, res) => {
    res.writeHead(status).end();
  });
  http.on('upgrade', (_req, socket) => {
    state.attempts += 1;
    // Node hands an upgraded socket over without an 'error' listener: the client dropping
    // its attempt (the connect deadline) can reset it, which must not crash the test run.
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws/chat`,
    get attempts() {
      return state.attempts;
    },
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A loopback port that refuses connections (listened on, then closed). */
async function refusedUrl(): Promise<string> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  await new Promise<void>((resolve) => http.close(() => resolve()));
  return `ws://127.0.0.1:${port}/ws/chat`;
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function supervise(url: string, connectTimeoutMs = 5_000): { supervisor: SessionSupervisor; sessions: Session[]; errors: SessionErrorPayload[]; storage: Storage } {
  const dir = mkdtempSync(join(tmpdir(), 'stickerbot-baileys-'));
  const storage = openStorage(dir);
  const sessions: Session[] = [];
  const errors: SessionErrorPayload[] = [];
  const supervisor = createSessionSupervisor({
    sessionId: 'real',
    socketFactory: createBaileysSocketFactory(),
    authStore: storage.auth,
    sessionStore: storage.sessions,
    journal: storage.journal,
    logger,
    emit: (event, ...args) => {
      if (event === 'session:changed') sessions.push(args[0] as Session);
      if (event === 'session:error') errors.push(args[0] as SessionErrorPayload);
    },
    options: {
      socket: { waWebSocketUrl: url, connectTimeoutMs },
      backoff: { baseMs: 200, capMs: 400, random: () => 0.5 },
      connectDeadlineMs: 2_000,
    },
  });
  cleanups.push(async () => {
    await supervisor.stop();
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { supervisor, sessions, errors, storage };
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('production Baileys socket factory', () => {
  it("hands Baileys the daemon's bounded caches, the Signal key store's included", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stickerbot-baileys-'));
    const storage = openStorage(dir);
    cleanups.push(() => {
      storage.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const registry = createSocketCacheRegistry({ signalKeys: { maxEntries: 2, ttlMs: 60_000 } });
    const caches = registry.forSocket('real');
    const config = baileysConfig({ sessionId: 'real', auth: storage.auth.open('real').state, logger }, {}, caches);
    expect(config).toMatchObject({
      userDevicesCache: caches.userDevices,
      msgRetryCounterCache: caches.msgRetry,
      placeholderResendCache: caches.placeholderResend,
      callOfferCache: caches.callOffer,
    });
    const keys = config.auth.keys;
    await keys.set({ 'sender-key-memory': { a: { x: true }, b: { x: true }, c: { x: true } } });
    // Written through to SQLite, cached within the bound: the oldest went from the cache only.
    expect(registry.sizes().sessions.get('real')?.signalKeys).toBe(2);
    expect(caches.signalKeys.get('sender-key-memory.a')).toBeUndefined();
    expect(await keys.get('sender-key-memory', ['a', 'c'])).toEqual({ a: { x: true }, c: { x: true } });
  });

  it('reports a connection the server drops and reconnects with backoff', async () => {
    const server = await droppingServer();
    cleanups.push(() => server.close());
    const { supervisor, sessions } = supervise(server.url);
    await supervisor.start();
    await until(() => server.attempts >= 3, 'three connection attempts');
    const reconnecting = sessions.filter((s) => s.status === 'RECONNECTING');
    expect(reconnecting.length).toBeGreaterThanOrEqual(2);
    expect(reconnecting[0]).toMatchObject({ reconnectAttempts: 1, lastDisconnect: 'connectionClosed' });
    expect(reconnecting[0]?.lastError?.message).toMatch(/connectionClosed: .*reconnecting in 0\.1 s/);
    expect(reconnecting[1]).toMatchObject({ reconnectAttempts: 2 });
    expect((reconnecting[1]?.nextRetryAt ?? 0) - (reconnecting[1]?.updatedAt ?? 0)).toBe(200);
    expect(sessions.some((s) => s.status === 'CONNECTED')).toBe(false);
  });

  it('recycles an attempt stuck on an upgrade the server refuses (HTTP 403), reports it and backs off', async () => {
    // Baileys listens for ws 'unexpected-response', so ws neither errors nor closes: the
    // attempt would hang in CONNECTING forever without the supervisor's connect deadline.
    const server = await refusingServer(403);
    cleanups.push(() => server.close());
    const { supervisor, sessions, errors } = supervise(server.url, 1_000);
    await supervisor.start();
    await until(() => server.attempts >= 2, 'a second attempt after the backoff');
    expect(errors[0]?.error).toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/no answer from WhatsApp within 2 s/) as string });
    expect(sessions.find((s) => s.status === 'RECONNECTING')).toMatchObject({ lastDisconnect: 'connectTimeout', reconnectAttempts: 1 });
  });

  it('reports a refused connection and keeps backing off without a QR or credentials loss', async () => {
    const { supervisor, sessions, storage } = supervise(await refusedUrl());
    await supervisor.start();
    await until(() => sessions.filter((s) => s.status === 'RECONNECTING').length >= 2, 'two reconnect decisions');
    const first = sessions.find((s) => s.status === 'RECONNECTING');
    expect(first?.lastDisconnect).toBe('connectionLost');
    expect(first?.lastError?.message).toMatch(/ECONNREFUSED/);
    expect(sessions.some((s) => s.status === 'QR_REQUIRED' || s.status === 'ERROR' || s.status === 'LOGGED_OUT')).toBe(false);
    expect(storage.sessions.get('real')?.autostart).toBe(true);
  });
});
