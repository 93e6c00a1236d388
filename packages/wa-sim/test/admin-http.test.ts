import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaTrust, startAdminServer, type AdminServer } from '../src/index.js';
import { startTrustedSim, type TrustedSim } from './support/trusted-sim.js';
import { createTestClient, makeAuthDir, removeAuthDir, type TestClient } from './support/baileys-client.js';
import type { Sim } from '../src/index.js';

const BOT = '4915100000009';
const DAVE = '4915500000005';
const WEBP_1X1 = Buffer.from('UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA', 'base64');

const call = async (admin: AdminServer, method: 'GET' | 'POST', path: string, body?: unknown) => {
  const res = await fetch(`${admin.url}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe('the loopback admin HTTP API', () => {
  let sim: Sim;
  let admin: AdminServer;
  let client: TestClient;
  let authDir: string;
  let trusted: TrustedSim;

  beforeAll(async () => {
    trusted = await startTrustedSim();
    sim = trusted.sim;
    admin = await startAdminServer(sim);
    authDir = await makeAuthDir();
    client = await createTestClient(sim, { authDir });
  });

  afterAll(async () => {
    await client?.end();
    await admin?.close();
    await trusted?.close();
    await removeAuthDir(authDir);
  });

  it('pairs a client through POST /scan-qr (a QR /registrations lists) and reports it in /status', async () => {
    const qr = await client.nextQr();
    // Baileys shows the QR as a wa.me link whose fragment is the pairing string.
    const [ref, noiseKey, identityKey] = qr.slice(qr.indexOf('#') + 1).split(',');
    const issued = (await call(admin, 'GET', '/registrations')).json.registrations as Array<{ refs: string[]; noiseKey: string; identityKey: string }>;
    expect(issued).toContainEqual({ refs: expect.arrayContaining([ref]) as unknown, noiseKey, identityKey });
    const { status, json } = await call(admin, 'POST', '/scan-qr', { qr, phone: BOT });
    expect((await call(admin, 'GET', '/registrations')).json.registrations).toEqual([]);
    expect(status).toBe(200);
    expect(json.pn).toBe(BOT);
    await client.waitOpen();
    const state = await call(admin, 'GET', '/status');
    expect(state.json.url).toBe(sim.url);
    expect(String(state.json.mediaCa)).toContain('BEGIN CERTIFICATE');
    expect(state.json.accounts).toContainEqual(expect.objectContaining({ pn: BOT, devices: [{ deviceId: json.deviceId, online: true }] }));
    // After pairing the client logs in again (515): two logins, never two at once.
    const connections = await call(admin, 'GET', '/connections');
    expect(connections.json).toMatchObject({ conflicts: 0, maxLive: 1 });
    expect(connections.json.devices).toEqual([{ pn: BOT, deviceId: json.deviceId, logins: expect.any(Number) as unknown, conflicts: 0, live: 1, maxLive: 1 }]);
  });

  it('sends a phone text and returns the bot reply with verified media', async () => {
    const upsert = client.waitForMessage((m) => m.message?.conversation === '!help');
    const sent = await call(admin, 'POST', `/phones/${DAVE}/text`, { text: '!help', name: 'Dave' });
    expect(sent.status).toBe(200);
    const inbound = await upsert;
    expect(inbound.key.id).toBe(sent.json.id);
    await expect
      .poll(async () => (await call(admin, 'GET', `/receipts?messageId=${String(sent.json.id)}`)).json.receipts, { timeout: 10_000 })
      .toEqual([expect.any(String)]);
    expect((await call(admin, 'GET', '/receipts')).status).toBe(400);
    await client.socket.sendMessage(`${DAVE}@s.whatsapp.net`, { sticker: WEBP_1X1 }, { quoted: inbound });
    const next = await call(admin, 'GET', `/phones/${DAVE}/next-message?timeoutMs=15000`);
    expect(next.status).toBe(200);
    expect(next.json.mediaType).toBe('sticker');
    expect(Buffer.from(String(next.json.media), 'base64')).toEqual(WEBP_1X1);
    const quoted = await call(admin, 'POST', `/phones/${DAVE}/text`, { text: 'thanks', quotedId: next.json.id });
    expect(quoted.status).toBe(200);
  });

  it('answers bad input with 400 and the reason, unknown routes with 404, misuse with 409', async () => {
    const bad = await call(admin, 'POST', '/kick', { phone: 'not-a-number', deviceId: 1 });
    expect(bad.status).toBe(400);
    expect(String(bad.json.error)).toMatch(/phone/);
    expect((await call(admin, 'GET', '/nope')).status).toBe(404);
    const misuse = await call(admin, 'POST', '/unlink', { phone: '4915999999999', deviceId: 3 });
    expect(misuse.status).toBe(409);
    expect(misuse.json.code).toBe('unknown-account');
  });

  it('creates a group, sends a member text and quote into it, reads the bot group reply and removes a member over HTTP', async () => {
    const EVE = '4915500000006';
    await call(admin, 'POST', `/phones/${EVE}/text`, { text: 'hi, I am Eve', name: 'Eve' });
    const created = await call(admin, 'POST', '/groups', { subject: 'Admin group', creator: DAVE, members: [EVE, BOT], admins: [EVE] });
    expect(created.status).toBe(200);
    const jid = String(created.json.jid);
    expect(created.json.members).toContainEqual({ pn: EVE, jid: sim.account(EVE).lid + '@lid', role: 'admin' });

    const upsert = client.waitForMessage((m) => m.message?.conversation === 'group hello' && m.key.remoteJid === jid);
    const sent = await call(admin, 'POST', `/phones/${DAVE}/text`, { text: 'group hello', group: jid });
    expect((await upsert).key.id).toBe(sent.json.id);

    const reply = await client.socket.sendMessage(jid, { text: 'bot in group' });
    const atEve = await call(admin, 'GET', `/phones/${EVE}/next-message?timeoutMs=15000`);
    expect(atEve.json).toMatchObject({ id: reply?.key.id, group: jid, text: 'bot in group', encType: 'skmsg' });
    await call(admin, 'GET', `/phones/${DAVE}/next-message?timeoutMs=15000`);

    const quoting = client.waitForMessage((m) => m.message?.extendedTextMessage?.text === 'quoting the bot');
    await call(admin, 'POST', `/phones/${EVE}/text`, { text: 'quoting the bot', group: jid, quotedId: atEve.json.id, mentions: [BOT] });
    const context = (await quoting).message?.extendedTextMessage?.contextInfo;
    expect(context?.stanzaId).toBe(reply?.key.id);
    expect(context?.participant).toBe(`${sim.account(BOT).lid}@lid`);

    const removed = await call(admin, 'POST', `/groups/${jid}/participants`, { by: EVE, action: 'remove', phones: [DAVE] });
    expect((removed.json.members as Array<{ pn: string }>).map((m) => m.pn)).toEqual([EVE, BOT]);
    const subject = await call(admin, 'POST', `/groups/${jid}/subject`, { by: EVE, subject: 'Renamed' });
    expect(subject.json.subject).toBe('Renamed');
    expect((await call(admin, 'GET', '/groups/123@g.us')).json.code).toBe('unknown-group');
    expect((await call(admin, 'POST', `/phones/${DAVE}/text`, { text: 'let me in', group: jid })).json.code).toBe('not-a-member');
  });

  it('kicks the client and arms faults over HTTP', async () => {
    const deviceId = [...sim.account(BOT).companions.keys()][0]!;
    expect((await call(admin, 'POST', '/faults', { failLogins: { reason: 503 } })).status).toBe(200);
    const closed = client.waitClosed();
    expect((await call(admin, 'POST', '/kick', { phone: BOT, deviceId, mode: 'close' })).status).toBe(200);
    await closed;
    const refused = client.waitClosed();
    await client.reconnect();
    expect((await refused).statusCode).toBe(503);
    await client.reconnect();
    await client.waitOpen();
  });

  it('reports an empty unhandled log', async () => {
    const { json } = await call(admin, 'GET', '/unhandled');
    expect(json).toEqual({ unhandled: [], problems: [] });
  });
});

describe('the emulator as its own process', () => {
  it('prints its urls on start, serves /status and exits on SIGTERM', async () => {
    const packageDir = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@stickerbot/source', 'src/main.ts'], {
      cwd: packageDir,
      env: { ...process.env, WA_SIM_LOG: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const ready = JSON.parse(first) as { wsUrl: string; adminUrl: string };
      expect(ready.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/);
      const res = await fetch(`${ready.adminUrl}/status`);
      const status = (await res.json()) as { url: string; mediaCa: string; mediaHost: string };
      expect(status.url).toBe(ready.wsUrl);
      // Another process trusts the media host through the CA alone, per request.
      await expect(fetch(`https://${status.mediaHost}/v/none.enc`)).rejects.toThrow();
      const trust = createMediaTrust(status.mediaCa);
      try {
        const media = await fetch(`https://${status.mediaHost}/v/none.enc`, { dispatcher: trust.dispatcher });
        expect(media.status).toBe(404);
      } finally {
        await trust.close();
      }
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
