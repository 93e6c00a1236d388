import { proto } from '@whiskeysockets/baileys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../src/index.js';
import { startTrustedSim, type TrustedSim } from './support/trusted-sim.js';
import { createTestClient, makeAuthDir, removeAuthDir } from './support/baileys-client.js';

const BOT = '4915100000001';

describe('login of a real Baileys client', () => {
  let sim: Sim;
  let trusted: TrustedSim;

  beforeAll(async () => {
    trusted = await startTrustedSim();
    sim = trusted.sim;
  });

  afterAll(async () => {
    await trusted?.close();
  });

  it('opens after the phone scans the QR and logs in again from saved auth without a QR', async () => {
    const authDir = await makeAuthDir();
    const client = await createTestClient(sim, { authDir });
    try {
      const qr = await client.nextQr();
      expect(qr).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#2@/);
      const paired = await sim.scanQr(qr, { phone: BOT });
      await client.waitOpen();
      expect(client.closes.map((c) => c.statusCode)).toEqual([515]);
      const me = client.socket.authState.creds.me;
      expect(me?.id).toBe(`${BOT}:${paired.deviceId}@s.whatsapp.net`);
      expect(me?.lid).toBe(`${paired.lid}:${paired.deviceId}@lid`);
      expect(sim.account(BOT).companions.get(paired.deviceId)?.preKeys.size).toBeGreaterThan(100);

      await client.end();
      const again = await createTestClient(sim, { authDir });
      const qrs: string[] = [];
      again.on('connection.update', (u) => {
        if (u.qr) qrs.push(u.qr);
      });
      await again.waitOpen();
      expect(qrs).toEqual([]);
      expect(sim.isOnline(BOT, paired.deviceId)).toBe(true);
      // The first login stored the edge-routing blob; the second one echoes it in its ED header.
      const logins = sim.logins.filter((l) => l.pn === BOT);
      expect(logins.map((l) => l.echoedRoutingInfo)).toEqual([false, true]);
      await again.end();
      expect(sim.unhandled.map((u) => u.key)).toEqual([]);
    } finally {
      await client.end();
      await removeAuthDir(authDir);
    }
  });

  it('sends the initial history sync so a client with history sync enabled goes online without waiting', async () => {
    const phone = '4915100000066';
    const client = await createTestClient(sim, { extra: { shouldSyncHistoryMessage: () => true } });
    try {
      const syncTypes: unknown[] = [];
      client.on('messaging-history.set', (set) => syncTypes.push(set.syncType));
      await sim.scanQr(await client.nextQr(), { phone });
      await client.waitOpen();
      await expect.poll(() => client.socket.authState.creds.accountSyncCounter, { timeout: 15_000 }).toBe(1);
      expect(syncTypes).toEqual([proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP]);
      expect(sim.unhandled.map((u) => u.key)).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('withholds the initial history sync when asked: the client receipts an offline message but holds its upsert back', async () => {
    const phone = '4915100000067';
    const client = await createTestClient(sim, { extra: { shouldSyncHistoryMessage: () => true } });
    sim.faults.withholdHistorySync();
    try {
      const { deviceId } = await sim.scanQr(await client.nextQr(), { phone });
      await client.waitOpen();
      const closed = client.waitClosed();
      sim.kick(phone, deviceId, 'close');
      await closed;
      const sent = await sim.phone('4915200000067').sendText('queued while the client was away', { to: phone });
      await client.reconnect();
      await expect.poll(() => sim.receiptsFor(sent.id).length, { timeout: 10_000 }).toBeGreaterThan(0);
      // Baileys buffers events for up to 20 s while it waits for the history sync.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(client.messages.map((m) => m.key.id)).not.toContain(sent.id);
      expect(client.socket.authState.creds.accountSyncCounter ?? 0).toBe(0);
    } finally {
      sim.faults.clear();
      await client.end();
    }
  });

  it('pairs by pairing code typed on the phone, then opens', async () => {
    const phone = '4915100000077';
    const authDir = await makeAuthDir();
    const client = await createTestClient(sim, { authDir });
    try {
      await client.nextQr();
      const code = await client.socket.requestPairingCode(phone);
      expect(code).toMatch(/^[A-Z0-9]{8}$/);
      const paired = await sim.enterPairingCode(code, { phone });
      await client.waitOpen();
      expect(client.socket.authState.creds.me?.id).toBe(`${phone}:${paired.deviceId}@s.whatsapp.net`);
      expect(sim.isOnline(phone, paired.deviceId)).toBe(true);
    } finally {
      await client.end();
      await removeAuthDir(authDir);
    }
  });

  it('rejects a wrong pairing code without linking a device', async () => {
    const phone = '4915100000078';
    const client = await createTestClient(sim);
    try {
      await client.nextQr();
      await client.socket.requestPairingCode(phone);
      await expect(sim.enterPairingCode('WRONGCOD', { phone })).rejects.toThrow(/wrong code/);
      expect(sim.account(phone).companions.size).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('refuses to scan a QR string no connected client shows', async () => {
    await expect(
      sim.scanQr('https://wa.me/settings/linked_devices#2@nope,AAAA,AAAA,AAAA,1', { phone: BOT }),
    ).rejects.toThrow(/no connected client/);
  });
});
