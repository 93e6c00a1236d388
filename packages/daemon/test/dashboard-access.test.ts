/**
 * The dashboard's access rules over a real daemon (fake WhatsApp, SQLite in a temp folder,
 * real Socket.IO clients): JWT and admin-token sign-in, the role and session-scope check of
 * every dashboard command, no event of one session reaching a dashboard scoped to another,
 * the journal status feed, and the page and Socket.IO client served over HTTP.
 */
import {
  DASHBOARD_COMMAND_NAMES,
  type DashboardCommandName,
  type JournalStatus,
  type MessageSummary,
  type Result,
  type Session,
  type SessionQr,
} from '@stickerbot/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { DashboardRole } from '../src/bridge/auth.js';
import { signDashboardToken } from '../src/dashboard/jwt.js';
import { FAKE_DISCONNECT, createFakeWa, type FakeWa } from '../src/test-kit/index.js';
import { connected, next, refusal, until, type DashboardClient } from './bridge-harness.js';
import { DaemonHarness, login, type RunningDaemon } from './daemon-harness.js';

const SECRET = 'dashboard-test-secret-0123456789abcdef';
const ALICE = '4915100000001';

const harness = new DaemonHarness();
afterEach(() => harness.cleanup());

function call<T = unknown>(socket: DashboardClient, event: string, args: unknown): Promise<Result<T>> {
  return new Promise((resolve) => {
    (socket.emit as (...all: unknown[]) => unknown).call(socket, event, args, (result: Result<T>) => resolve(result));
  });
}

function jwt(role: DashboardRole, sessions: string[] | '*', ttlSeconds = 3600, now = Date.now()): Promise<string> {
  return signDashboardToken(SECRET, { subject: `${role}-user`, role, sessions, ttlSeconds, now });
}

async function startDaemon(wa: FakeWa = createFakeWa(), env: Record<string, string> = {}): Promise<RunningDaemon> {
  return harness.start(harness.dataDir(), wa, { STICKERBOT_SESSIONS: 'shop,home', STICKERBOT_JWT_SECRET: SECRET, ...env });
}

async function signedIn(running: RunningDaemon, token: string): Promise<{ socket: DashboardClient; listed: Session[] }> {
  const socket = running.clients.dashboard({ token });
  const listed = await next<{ sessions: Session[] }>(socket, 'session:listed');
  return { socket, listed: listed.sessions };
}

/** Everything a dashboard received, by event. */
function record(socket: DashboardClient): Array<{ event: string; sessionId: string }> {
  const seen: Array<{ event: string; sessionId: string }> = [];
  socket.on('session:changed', (session) => seen.push({ event: 'session:changed', sessionId: session.id }));
  socket.on('session:qr', (qr) => seen.push({ event: 'session:qr', sessionId: qr.sessionId }));
  socket.on('session:error', (error) => seen.push({ event: 'session:error', sessionId: error.sessionId }));
  socket.on('message:received', (summary) => seen.push({ event: 'message:received', sessionId: summary.sessionId }));
  return seen;
}

describe('dashboard sign-in', () => {
  it('accepts the admin token and a JWT, and tells the page why an expired or forged token is refused', async () => {
    const running = await startDaemon();
    expect((await signedIn(running, running.token)).listed.map((s) => s.id).sort()).toEqual(['home', 'shop']);
    expect((await signedIn(running, await jwt('viewer', ['shop']))).listed.map((s) => s.id)).toEqual(['shop']);

    const expired = await jwt('admin', '*', 60, Date.now() - 3_600_000);
    expect(await refusal(running.clients.dashboard({ token: expired }))).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/expired/) as unknown });
    const forged = await signDashboardToken(`${SECRET}-not-ours`, { subject: 'mallory', role: 'admin', sessions: '*', ttlSeconds: 60 });
    expect(await refusal(running.clients.dashboard({ token: forged }))).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/forged/) as unknown });
    expect(await refusal(running.clients.dashboard({ token: 'not-the-admin-token' }))).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('refuses every JWT when no secret is configured', async () => {
    const running = await harness.start(harness.dataDir(), createFakeWa(), { STICKERBOT_SESSIONS: 'shop' });
    expect(await refusal(running.clients.dashboard({ token: await jwt('admin', '*') }))).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('disconnects a signed-in dashboard when its token expires', async () => {
    const running = await startDaemon();
    const { socket } = await signedIn(running, await jwt('operator', ['shop'], 2));
    const reason = await new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
  });
});

/** Which principals may run which command on an in-scope session (out of scope: nobody). */
const ALLOWED: Record<DashboardRole, ReadonlySet<DashboardCommandName>> = {
  admin: new Set(DASHBOARD_COMMAND_NAMES),
  operator: new Set<DashboardCommandName>(['session:subscribe', 'session:unsubscribe', 'session:start', 'session:stop', 'session:logout', 'session:pair']),
  viewer: new Set<DashboardCommandName>(['session:subscribe', 'session:unsubscribe']),
};

/** Every dashboard command, in an order that leaves each one something to act on. */
const ORDER: readonly DashboardCommandName[] = [
  'session:subscribe',
  'session:unsubscribe',
  'session:create',
  'session:pair',
  'session:stop',
  'session:start',
  'session:logout',
];

function argsFor(op: DashboardCommandName, sessionId: string): Record<string, string> {
  return op === 'session:pair' ? { sessionId, phone: ALICE } : { sessionId };
}

describe('dashboard roles and session scopes', () => {
  for (const role of ['admin', 'operator', 'viewer'] as const) {
    it(`checks every dashboard command of a ${role} scoped to one session`, async () => {
      const wa = createFakeWa();
      const running = await startDaemon(wa);
      // The scope names a not-yet-existing session too, so a scoped admin may create it.
      const { socket, listed } = await signedIn(running, await jwt(role, ['shop', 'new-shop']));
      expect(listed.map((s) => s.id)).toEqual(['shop']);
      expect([...ORDER].sort()).toEqual([...DASHBOARD_COMMAND_NAMES].sort());
      for (const op of ORDER) {
        const inScope = op === 'session:create' ? 'new-shop' : 'shop';
        const answer = call(socket, op, argsFor(op, inScope));
        // A pairing code is asked for while the session shows a QR, as with real WhatsApp.
        if (op === 'session:pair' && ALLOWED[role].has(op)) {
          await wa.session(inScope).waitForSocket();
          wa.session(inScope).qr();
        }
        const mine = await answer;
        if (ALLOWED[role].has(op)) expect(mine, `${role} ${op} on ${inScope}`).toMatchObject({ ok: true });
        else expect(mine, `${role} ${op} on ${inScope}`).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

        const outOfScope = op === 'session:create' ? 'elsewhere' : 'home';
        const theirs = await call(socket, op, argsFor(op, outOfScope));
        expect(theirs, `${role} ${op} on ${outOfScope}`).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      }
      // Nothing forbidden happened: the other session is untouched and nothing was created.
      expect(running.daemon.registry?.get('home')?.status).not.toBe('LOGGED_OUT');
      expect(running.daemon.registry?.get('elsewhere')).toBeUndefined();
    });
  }

  it('lets the admin token and an unscoped admin JWT act on every session', async () => {
    const running = await startDaemon();
    for (const token of [running.token, await jwt('admin', '*')]) {
      const { socket } = await signedIn(running, token);
      expect(await call(socket, 'session:stop', { sessionId: 'home' })).toMatchObject({ ok: true, result: { session: { status: 'STOPPED' } } });
      expect(await call(socket, 'session:start', { sessionId: 'home' })).toMatchObject({ ok: true });
    }
  });
});

describe('dashboard rooms', () => {
  it("never delivers one session's QR, status, errors or messages to a dashboard scoped to another", async () => {
    const wa = createFakeWa();
    const running = await startDaemon(wa);
    const shop = await signedIn(running, await jwt('operator', ['shop']));
    const home = await signedIn(running, await jwt('viewer', ['home']));
    const admin = await signedIn(running, running.token);
    const seen = { shop: record(shop.socket), home: record(home.socket), admin: record(admin.socket) };
    expect(await call(shop.socket, 'session:subscribe', { sessionId: 'shop' })).toMatchObject({ ok: true });
    expect(await call(home.socket, 'session:subscribe', { sessionId: 'home' })).toMatchObject({ ok: true });
    // A refused subscribe joins no room.
    expect(await call(shop.socket, 'session:subscribe', { sessionId: 'home' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    for (const id of ['shop', 'home']) expect(await call(admin.socket, 'session:subscribe', { sessionId: id })).toMatchObject({ ok: true });

    for (const id of ['shop', 'home']) {
      await wa.session(id).waitForSocket();
      wa.session(id).qr();
      // The QR is rendered to a PNG asynchronously; a login before that would drop it.
      await until(() => seen.admin.some((e) => e.event === 'session:qr' && e.sessionId === id), `the ${id} QR`);
      await login(wa.session(id), id === 'shop' ? '15550000001' : '15550000002');
      wa.session(id).receiveText({ from: ALICE, text: `hello ${id}` });
      wa.session(id).close(FAKE_DISCONNECT.connectionReplaced);
    }
    const kinds = ['session:qr', 'session:changed', 'message:received', 'session:error'];
    const complete = (events: Array<{ event: string; sessionId: string }>, id: string): boolean =>
      kinds.every((kind) => events.some((e) => e.event === kind && e.sessionId === id));
    await until(() => complete(seen.admin, 'shop') && complete(seen.admin, 'home'), 'the admin seeing both sessions');
    await until(() => complete(seen.shop, 'shop') && complete(seen.home, 'home'), 'each scoped dashboard seeing its session');
    expect(seen.shop.filter((e) => e.sessionId !== 'shop')).toEqual([]);
    expect(seen.home.filter((e) => e.sessionId !== 'home')).toEqual([]);
  });

  it('answers a subscribe with the QR on screen and the last messages', async () => {
    const wa = createFakeWa();
    const running = await startDaemon(wa);
    const early = await signedIn(running, running.token);
    await call(early.socket, 'session:subscribe', { sessionId: 'shop' });
    const shown = next<SessionQr>(early.socket, 'session:qr');
    await wa.session('shop').waitForSocket();
    wa.session('shop').qr('2@current-qr,noise,identity,adv');
    await shown;

    const late = await signedIn(running, await jwt('viewer', ['shop']));
    const answer = await call<{ qr?: SessionQr; messages?: MessageSummary[] }>(late.socket, 'session:subscribe', { sessionId: 'shop' });
    expect(answer).toMatchObject({ ok: true, result: { qr: { sessionId: 'shop', qr: '2@current-qr,noise,identity,adv' } } });

    await login(wa.session('shop'));
    const summary = next<MessageSummary>(early.socket, 'message:received');
    wa.session('shop').receiveText({ from: ALICE, text: 'remember me' });
    await summary;
    const again = await call<{ qr?: SessionQr; messages?: MessageSummary[] }>(late.socket, 'session:subscribe', { sessionId: 'shop' });
    expect(again.ok && again.result.messages?.map((m) => m.preview)).toEqual(['remember me']);
    expect(again.ok && again.result.qr).toBeUndefined();
  });
});

describe('dashboard journal status', () => {
  it('sends the consumer groups on connect and again when a worker connects and acknowledges', async () => {
    const wa = createFakeWa();
    const running = await startDaemon(wa);
    const socket = running.clients.dashboard({ token: await jwt('viewer', ['shop']) });
    const statuses: JournalStatus[] = [];
    socket.on('journal:status', (status) => statuses.push(status));
    await connected(socket);
    await until(() => statuses.length > 0, 'the first journal status');

    const worker = running.clients.worker({ token: running.token, group: 'bot' });
    await connected(worker);
    await until(() => statuses.some((s) => s.groups.some((g) => g.group === 'bot' && g.workers === 1)), 'the connected worker');
    const last = (): JournalStatus | undefined => statuses.at(-1);
    expect(last()?.lastSeq).toBeGreaterThan(0);
    worker.emit('event:ack', { position: last()?.lastSeq ?? 0 });
    await until(() => last()?.groups.find((g) => g.group === 'bot')?.lag === 0, 'the group caught up');
  });
});

describe('dashboard over HTTP', () => {
  it('serves the page with a strict content security policy and the Socket.IO client from the daemon', async () => {
    const running = await startDaemon();
    const root = await fetch(`${running.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard/');
    const page = await fetch(`${running.url}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    for (const asset of ['app.js', 'view.js', 'app.css']) expect((await fetch(`${running.url}/dashboard/${asset}`)).status).toBe(200);
    const client = await fetch(`${running.url}/socket.io/socket.io.esm.min.js`);
    expect(client.status).toBe(200);
    expect(await client.text()).toContain('export');
    expect((await fetch(`${running.url}/dashboard/../token`)).status).toBe(404);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  });
});
