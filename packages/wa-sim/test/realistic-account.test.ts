import { Writable } from 'node:stream';
import { pino } from 'pino';
import { proto, type BaileysEventMap, type Contact } from '@whiskeysockets/baileys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, SimProtocolError, type Sim } from '../src/index.js';
import { startTrustedSim, type TrustedSim } from './support/trusted-sim.js';
import { createTestClient } from './support/baileys-client.js';

/** Baileys' own log lines, kept to check how its app-state sync went. */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('a realistic account', () => {
  let sim: Sim;
  let trusted: TrustedSim;

  beforeAll(async () => {
    trusted = await startTrustedSim();
    sim = trusted.sim;
  });

  afterAll(async () => {
    await trusted?.close();
  });

  it('brings a linked client its history sync, contacts with LID mappings, groups and app state, with the default sizes', async () => {
    const phone = '4915100000201';
    const account = await sim.provisionAccount(phone);
    expect(account.contacts).toHaveLength(300);
    expect(account.groups).toHaveLength(30);
    expect(account.groups[0]?.members).toHaveLength(40);
    expect(account.appStatePatches.critical_unblock_low).toBe(3);

    const { lines, logger } = capturingLogger();
    const client = await createTestClient(sim, { extra: { shouldSyncHistoryMessage: () => true, logger, appStateMacVerification: { patch: true, snapshot: true } } });
    const history: BaileysEventMap['messaging-history.set'][] = [];
    const contacts: Partial<Contact>[] = [];
    const groupUpdates: string[] = [];
    client.on('messaging-history.set', (set) => history.push(set));
    client.on('contacts.upsert', (batch) => contacts.push(...batch));
    client.on('contacts.update', (batch) => contacts.push(...batch));
    client.on('groups.update', (batch) => groupUpdates.push(...batch.map((g) => g.id ?? '')));
    try {
      await sim.scanQr(await client.nextQr(), { phone });
      await client.waitOpen();
      // Baileys counts a finished initial sync (history, then every app-state collection).
      await expect.poll(() => client.socket.authState.creds.accountSyncCounter, { timeout: 30_000 }).toBe(1);
      await expect.poll(() => history.find((set) => set.syncType === proto.HistorySync.HistorySyncType.PUSH_NAME), { timeout: 15_000 }).toBeDefined();

      const messages = history.flatMap((set) => set.messages);
      expect(messages).toHaveLength(1000);
      // The bootstrap first, RECENT chunks of up to 500 messages, the push names last.
      const Type = proto.HistorySync.HistorySyncType;
      expect(history.map((set) => set.syncType)).toEqual([Type.INITIAL_BOOTSTRAP, Type.RECENT, Type.RECENT, Type.PUSH_NAME]);
      const chatIds = new Set(history.flatMap((set) => set.chats.map((chat) => chat.id)));
      for (const group of account.groups) expect(chatIds.has(group.jid)).toBe(true);

      // LID mappings: Baileys resolves every contact's LID to its phone number.
      const alice = sim.phone(account.contacts[150] ?? '');
      const mapped = await client.socket.signalRepository.lidMapping.getPNForLID(alice.lid);
      expect(mapped?.split('@')[0]?.split(':')[0]).toBe(alice.pn);

      // Groups: the dirty bit made Baileys fetch every group; metadata has the members.
      await expect.poll(() => new Set(groupUpdates).size, { timeout: 15_000 }).toBe(30);
      const all = await client.socket.groupFetchAllParticipating();
      expect(Object.keys(all)).toHaveLength(30);
      const metadata = await client.socket.groupMetadata(account.groups[3]?.jid ?? '');
      expect(metadata.participants).toHaveLength(40);
      expect(metadata.subject).toBe(account.groups[3]?.subject);

      // App state: every collection synced from the shared key with its MACs verified, contacts named from it.
      const versions = await client.socket.authState.keys.get('app-state-sync-version', ['critical_block', 'critical_unblock_low', 'regular_high', 'regular_low']);
      expect(versions.critical_unblock_low?.version).toBe(3);
      expect(versions.regular_high?.version).toBe(1);
      expect(contacts.some((c) => c.name === 'Contact 0150' || c.notify === 'Contact 0150')).toBe(true);
      expect(lines.some((line) => line.msg.includes('App state sync complete'))).toBe(true);
      expect(lines.filter((line) => /failed to sync|blocked on missing key|giving up/.test(line.msg)).map((line) => line.msg)).toEqual([]);
      expect(sim.unhandled.map((u) => u.key)).toEqual([]);
      expect(sim.problems).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('provisions an account over the admin HTTP API and refuses unknown sizes there with 400', async () => {
    const admin = await startAdminServer(sim);
    try {
      const post = (body: unknown) =>
        fetch(`${admin.url}/phones/4915100000203/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await post({ contact: 3 })).status).toBe(400);
      const made = (await (await post({ contacts: 20, groups: 2, groupSize: 5, historyMessages: 50 })).json()) as { contacts: string[]; groups: string[]; lid: string };
      expect(made.contacts).toHaveLength(20);
      expect(made.groups).toHaveLength(2);
      expect(sim.groups.get(made.groups[0] ?? '').members).toHaveLength(5);
      expect(sim.account('4915100000203').lid).toBe(made.lid);
      expect((await post({})).status).toBe(409);
    } finally {
      await admin.close();
    }
  });

  it('refuses sizes that cannot make an account, with a typed error', async () => {
    await expect(sim.provisionAccount('4915100000202', { contacts: 5, groupSize: 40 })).rejects.toThrow(SimProtocolError);
    await expect(sim.provisionAccount('4915100000202', { historyMessages: -1 })).rejects.toThrow(/historyMessages/);
    await expect(sim.provisionAccount('4915100000202', { contactPool: 1500.5 })).rejects.toThrow(/contactPool must be a whole number/);
  });
});
