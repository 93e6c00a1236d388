/**
 * What the daemon's port tells whoever reaches it (issue 12, item 7): a web page that
 * rebinds its own name to 127.0.0.1 is refused by its `Host` on every HTTP route and on the
 * Socket.IO handshake; `/readyz` tells anyone only "ready" and counts; session ids, error
 * texts, groups and `/metrics` are for the admin token.
 */
import { request } from 'node:http';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { signDashboardToken } from '../src/dashboard/jwt.js';
import { createFakeWa } from '../src/test-kit/index.js';
import { DaemonHarness, login, type RunningDaemon } from './daemon-harness.js';

const SECRET = 'a-jwt-secret-of-at-least-32-characters';
const harness = new DaemonHarness();
afterEach(() => harness.cleanup());

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A GET with headers fetch() may not set (`Host`). */
function get(url: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a Socket.IO dashboard client connects over a WebSocket whose handshake carries `host`. */
function socketConnects(url: string, host: string, token: string): Promise<boolean> {
  const socket = io(`${url}/dashboard`, { transports: ['websocket'], reconnection: false, extraHeaders: { host }, auth: { token } });
  return new Promise<boolean>((resolve) => {
    socket.once('connect', () => resolve(true));
    socket.once('connect_error', () => resolve(false));
  }).finally(() => socket.close());
}

const ROUTES = ['/healthz', '/readyz', '/readyz?verbose', '/metrics', '/', '/dashboard/', '/dashboard/index.html', '/nothing-here', '/socket.io/?EIO=4&transport=polling'];

async function startDaemon(env: Record<string, string> = {}): Promise<RunningDaemon> {
  const wa = createFakeWa();
  const running = await harness.start(harness.dataDir(), wa, { STICKERBOT_SESSIONS: 'main,secret-shop', STICKERBOT_JWT_SECRET: SECRET, ...env });
  await login(wa.session('main'));
  return running;
}

describe('the Host check (DNS rebinding)', () => {
  it('refuses Host: evil.example on every HTTP route and the Socket.IO handshake, even with the admin token', async () => {
    const running = await startDaemon();
    const port = new URL(running.url).port;
    const admin = { authorization: `Bearer ${running.token}` };
    for (const path of ROUTES) {
      const refused = await get(running.url, path, { host: `evil.example:${port}`, ...admin });
      expect({ path, status: refused.status }).toEqual({ path, status: 403 });
      // Socket.IO's own refusal of a handshake is a JSON error.
      expect(refused.headers['content-type']).toContain(path.startsWith('/socket.io/') ? 'application/json' : 'text/plain');
      expect(refused.body).not.toMatch(/secret-shop|main|stickerbot_/);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
        expect({ path, host, status: (await get(running.url, path, { host, ...admin })).status }).not.toEqual({ path, host, status: 403 });
      }
    }
    expect(await socketConnects(running.url, 'evil.example', running.token)).toBe(false);
    expect(await socketConnects(running.url, `127.0.0.1:${port}`, running.token)).toBe(true);
  });

  it('accepts the names of STICKERBOT_ALLOWED_HOSTS, and any IP address (never a name) when bound to 0.0.0.0', async () => {
    const running = await startDaemon({ STICKERBOT_HOST: '0.0.0.0', STICKERBOT_TOKEN: 'an-explicit-token-for-0.0.0.0', STICKERBOT_ALLOWED_HOSTS: 'bot.example.com' });
    expect((await get(running.url, '/healthz', { host: 'bot.example.com' })).status).toBe(200);
    expect((await get(running.url, '/healthz', { host: 'BOT.example.com.:443' })).status).toBe(200);
    expect((await get(running.url, '/healthz', { host: '192.0.2.7:7420' })).status).toBe(200);
    expect((await get(running.url, '/healthz', { host: '[2001:db8::1]' })).status).toBe(200);
    expect((await get(running.url, '/healthz', { host: 'other.example.com' })).status).toBe(403);
    expect((await get(running.url, '/healthz', { host: 'bot.example.com.evil.example' })).status).toBe(403);
    expect(await socketConnects(running.url, 'bot.example.com', running.token)).toBe(true);
    expect(await socketConnects(running.url, 'evil.example', running.token)).toBe(false);
  });

  it('accepts only loopback names and the bind address when bound to loopback', async () => {
    const running = await startDaemon({ STICKERBOT_ALLOWED_HOSTS: 'bot.example.com' });
    expect((await get(running.url, '/healthz', { host: '192.0.2.7' })).status).toBe(403);
    expect((await get(running.url, '/healthz', { host: 'bot.example.com' })).status).toBe(200);
  });
});

describe('/readyz and /metrics', () => {
  it('tell anyone only whether the daemon is ready and how many sessions are in which state', async () => {
    const running = await startDaemon();
    const worker = running.clients.worker({ token: running.token, group: 'private-group' });
    await new Promise<void>((resolve) => worker.once('connect', () => resolve()));
    let ready = await get(running.url, '/readyz');
    for (let tries = 0; !ready.body.includes('"CONNECTED":1') && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ready = await get(running.url, '/readyz');
    }
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.body) as { ready: boolean; sessions: { total: number; byStatus: Record<string, number> } };
    expect(body).toEqual({ ready: true, sessions: { total: 2, byStatus: expect.objectContaining({ CONNECTED: 1, ERROR: 0 }) as Record<string, number> } });
    expect(Object.values(body.sessions.byStatus).reduce((a, b) => a + b, 0)).toBe(2);
    expect(ready.body).not.toMatch(/secret-shop|main|private-group|problems|lastError/);
  });

  it('give the details to the admin token only: not to no token, a wrong one, or a dashboard JWT scoped to some sessions', async () => {
    const running = await startDaemon();
    const scoped = await signDashboardToken(SECRET, { subject: 'shop-admin', role: 'admin', sessions: ['main'], ttlSeconds: 600 });
    const allSessions = await signDashboardToken(SECRET, { subject: 'ops', role: 'admin', sessions: '*', ttlSeconds: 600 });
    for (const path of ['/readyz?verbose', '/metrics']) {
      for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Bearer ${scoped}`, running.token]) {
        const refused = await get(running.url, path, authorization === undefined ? {} : { authorization });
        expect({ path, authorization, status: refused.status }).toEqual({ path, authorization, status: 401 });
        expect(refused.headers['www-authenticate']).toBe('Bearer realm="stickerbot"');
        expect(refused.body).not.toMatch(/secret-shop|stickerbot_sessions/);
      }
    }
    const details = await get(running.url, '/readyz?verbose', { authorization: `Bearer ${running.token}` });
    expect(details.status).toBe(200);
    expect(JSON.parse(details.body)).toMatchObject({ ready: true, checks: { store: true }, sessions: expect.arrayContaining([expect.objectContaining({ id: 'secret-shop' })]) as unknown[] });
    const metrics = await get(running.url, '/metrics', { authorization: `Bearer ${running.token}` });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('stickerbot_sessions{state="CONNECTED"}');
    // An admin JWT for every session is the admin too.
    expect((await get(running.url, '/metrics', { authorization: `Bearer ${allSessions}` })).status).toBe(200);
  });

  it('serve /metrics without a token when STICKERBOT_METRICS_PUBLIC is set, and the readiness details still not', async () => {
    const running = await startDaemon({ STICKERBOT_METRICS_PUBLIC: 'true' });
    const metrics = await get(running.url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('stickerbot_sessions{state="CONNECTED"}');
    expect((await get(running.url, '/readyz?verbose')).status).toBe(401);
  });
});
