/**
 * `pnpm link:session` against a real daemon (fake WhatsApp, SQLite in a temp folder, real
 * Socket.IO over loopback): the QR printed until the session links, the pairing code, a
 * session created on request, and one exit code for each way it cannot work. Also the
 * daemon's own text QR: printed with the dashboard URL and the token's location.
 */
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '@stickerbot/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createDaemon } from '../src/daemon.js';
import { LINK_EXIT, parseLinkArgs, resolveLinkTarget, type LinkRequest } from '../src/dashboard/link-request.js';
import { linkSession } from '../src/dashboard/link-session.js';
import { createFakeWa, readQrTexts, type FakeWa } from '../src/test-kit/index.js';
import { until } from './bridge-harness.js';
import { DaemonHarness, login, type RunningDaemon } from './daemon-harness.js';

const harness = new DaemonHarness();
afterEach(() => harness.cleanup());

interface Run {
  readonly code: Promise<number>;
  out(): string;
  err(): string;
}

function link(running: Pick<RunningDaemon, 'url' | 'token'>, request: Partial<LinkRequest> = {}): Run {
  let out = '';
  let err = '';
  const code = linkSession({
    url: running.url,
    token: running.token,
    request: { sessionId: 'main', phone: undefined, create: false, ...request },
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    timeoutMs: 10_000,
  });
  return { code, out: () => out, err: () => err };
}

async function start(wa: FakeWa = createFakeWa()): Promise<RunningDaemon> {
  return harness.start(harness.dataDir(), wa);
}

function closedPort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

describe('pnpm link:session', () => {
  it('prints the QR again on every rotation until the session links, then says as whom', async () => {
    const wa = createFakeWa();
    const running = await start(wa);
    await wa.session('main').waitForSocket();
    const first = wa.session('main').qr('2@first-qr,noise,identity,adv');
    const run = link(running);
    await until(() => readQrTexts(run.out()).length === 1, 'the first QR printed');
    const second = wa.session('main').qr('2@second-qr,noise,identity,adv');
    await until(() => readQrTexts(run.out()).length === 2, 'the rotated QR printed');
    expect(readQrTexts(run.out())).toEqual([first, second]);
    await login(wa.session('main'), '4915100000001');
    expect(await run.code).toBe(LINK_EXIT.linked);
    expect(run.out()).toContain('is linked as +4915100000001');
    expect(run.err()).toBe('');
  });

  it('with --phone prints the pairing code WhatsApp gave, and no QR', async () => {
    const wa = createFakeWa();
    const running = await start(wa);
    await wa.session('main').waitForSocket();
    wa.session('main').qr();
    wa.session('main').pairingCode = 'ABCD1234';
    const run = link(running, { phone: '4915100000001' });
    await until(() => run.out().includes('ABCD-1234'), 'the pairing code printed');
    expect(wa.session('main').calls).toContainEqual({ method: 'requestPairingCode', args: ['4915100000001'] });
    wa.session('main').qr();
    await login(wa.session('main'), '4915100000001');
    expect(await run.code).toBe(LINK_EXIT.linked);
    expect(readQrTexts(run.out())).toEqual([]);
  });

  it('creates an unknown session with --create, and refuses it without (exit 5, naming the known ones)', async () => {
    const wa = createFakeWa();
    const running = await start(wa);
    const refused = link(running, { sessionId: 'shop' });
    expect(await refused.code).toBe(LINK_EXIT.unknownSession);
    expect(refused.err()).toContain('no session "shop" (it has: main); add --create');

    const created = link(running, { sessionId: 'shop', create: true });
    await wa.session('shop').waitForSocket();
    const qr = wa.session('shop').qr();
    await until(() => readQrTexts(created.out()).length === 1, 'the new session QR printed');
    expect(readQrTexts(created.out())).toEqual([qr]);
    await login(wa.session('shop'));
    expect(await created.code).toBe(LINK_EXIT.linked);
    expect(running.daemon.registry?.get('shop')?.status).toBe('CONNECTED');
  });

  it('says a linked session is already linked and exits 0', async () => {
    const running = await start(createFakeWa({ linked: true }));
    await until(() => running.daemon.registry?.get('main')?.status === 'CONNECTED', 'the session connected');
    const run = link(running);
    expect(await run.code).toBe(LINK_EXIT.linked);
    expect(run.out()).toContain('already linked');
  });

  it('exits 4 for a wrong token and 3 when no daemon answers', async () => {
    const running = await start();
    const wrong = link({ url: running.url, token: 'not-the-admin-token' });
    expect(await wrong.code).toBe(LINK_EXIT.unauthorized);
    expect(wrong.err()).toContain('refused the token');
    const nobody = link({ url: `http://127.0.0.1:${await closedPort()}`, token: running.token });
    expect(await nobody.code).toBe(LINK_EXIT.unreachable);
    expect(nobody.err()).toContain('no daemon answers');
  });

  it('reads its arguments and finds the daemon from the same variables as the daemon', () => {
    expect(parseLinkArgs(['default', '--phone', '+49 151 234-567'])).toEqual({ sessionId: 'default', phone: '49151234567', create: false });
    expect(() => parseLinkArgs([])).toThrow(/exactly one session/);
    expect(() => parseLinkArgs(['Default'])).toThrow(/invalid session id/);
    expect(() => parseLinkArgs(['default', '--phone', 'abc'])).toThrow(/--phone/);
    expect(() => parseLinkArgs(['default', '--nope'])).toThrow();
    expect(resolveLinkTarget({})).toEqual({ url: 'http://127.0.0.1:7420', token: undefined, tokenFile: 'data/token' });
    expect(resolveLinkTarget({ STICKERBOT_HOST: '0.0.0.0', STICKERBOT_PORT: '8000', STICKERBOT_TOKEN: 'x'.repeat(20), STICKERBOT_DATA_DIR: '/srv/bot' })).toEqual({
      url: 'http://127.0.0.1:8000',
      token: 'x'.repeat(20),
      tokenFile: '/srv/bot/token',
    });
    expect(resolveLinkTarget({ STICKERBOT_BRIDGE_URL: 'http://[::1]:9000/', STICKERBOT_PORT: '1' }).url).toBe('http://[::1]:9000');
    expect(() => resolveLinkTarget({ STICKERBOT_BRIDGE_URL: 'ftp://x' })).toThrow(/http/);
  });
});

describe('the daemon text QR', () => {
  it('prints each QR on its output stream with the dashboard URL and the token file, unless told never', async () => {
    for (const mode of ['auto', 'never'] as const) {
      const dataDir = harness.dataDir();
      const config = loadConfig({ STICKERBOT_DATA_DIR: dataDir, STICKERBOT_PORT: '0', STICKERBOT_SESSIONS: 'main', STICKERBOT_QR_TERMINAL: mode, LOG_LEVEL: 'silent' });
      const wa = createFakeWa();
      const stream = new PassThrough();
      let printed = '';
      stream.on('data', (chunk: Buffer) => void (printed += chunk.toString()));
      const daemon = createDaemon(
        {
          logger: createLogger({ service: 'stickerbot-daemon', level: 'silent' }),
          socketFactory: wa.factory,
          processMetrics: false,
          // A log file of its own, as pm2 gives stderr.
          qrOutput: { stream, streams: { stderrIsTty: false, stderrIsStdout: false } },
        },
        config,
      );
      const address = await daemon.start();
      try {
        await wa.session('main').waitForSocket();
        const qr = wa.session('main').qr();
        await until(() => daemon.registry?.currentQr?.('main') !== undefined, 'the QR rendered');
        if (mode === 'never') {
          expect(printed).toBe('');
          continue;
        }
        expect(readQrTexts(printed)).toEqual([qr]);
        expect(printed).toContain(`http://127.0.0.1:${address.port}/dashboard/ (admin token: ${resolve(dataDir, 'token')})`);
      } finally {
        await daemon.stop();
      }
    }
  });
});
