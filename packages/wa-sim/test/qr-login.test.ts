import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, trustEmulatorNoiseRoot, restoreWhatsAppNoiseRoot, useStrictSignatureVerification, type Sim } from '../src/index.js';
import { createTestClient, makeAuthDir, removeAuthDir } from './support/baileys-client.js';

const BOT = '4915100000001';

describe('QR login of a real Baileys client', () => {
  let sim: Sim;
  let restoreVerify: () => void;

  beforeAll(async () => {
    sim = await startSim({ logger: pino({ level: process.env.WA_SIM_LOG ?? 'silent' }) });
    process.env.WA_SIM_TRUST_KEY = '1';
    trustEmulatorNoiseRoot(sim.url, { iUnderstandThisDisablesWhatsAppServerAuth: true });
    restoreVerify = useStrictSignatureVerification();
  });

  afterAll(async () => {
    restoreVerify();
    restoreWhatsAppNoiseRoot();
    await sim.close();
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
      await again.end();
      expect(sim.unhandled.map((u) => u.key)).toEqual([]);
    } finally {
      await client.end();
      await removeAuthDir(authDir);
    }
  });
});
