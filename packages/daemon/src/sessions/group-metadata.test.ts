import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalEntrySchema, type BotEvent, type JournalEntry } from '@stickerbot/protocol';
import { WAMessageAddressingMode, type GroupMetadata } from '@whiskeysockets/baileys';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGroupMetadataCache, toGroupInfo } from './group-metadata-cache.js';
import { createSessionRegistry } from './registry.js';
import type { SessionRegistry } from '../session-registry.js';
import { openStorage, type Storage } from '../storage/index.js';
import { createFakeWa, type FakeWa, type FakeWaSession } from '../test-kit/fake-wa-session.js';

const SELF = '15550000001@s.whatsapp.net';
const SELF_LID = '90000000000001@lid';
const ALICE = '4915100000001@s.whatsapp.net';
const ALICE_LID = '11111111111111@lid';
const BOB = '4915100000002@s.whatsapp.net';
const BOB_LID = '22222222222222@lid';
const CAROL = '4915100000003@s.whatsapp.net';
const CAROL_LID = '33333333333333@lid';
const GROUP = '120363000000000042@g.us';

/** A LID-addressed group as Baileys returns it: members by LID, numbers only where WhatsApp sent them. */
function lidGroup(): GroupMetadata {
  return {
    id: GROUP,
    subject: 'Sticker swap',
    addressingMode: WAMessageAddressingMode.LID,
    owner: ALICE_LID,
    ownerPn: ALICE,
    announce: false,
    participants: [
      { id: ALICE_LID, phoneNumber: ALICE, admin: 'superadmin' },
      { id: BOB_LID },
      { id: CAROL_LID, phoneNumber: CAROL },
      { id: SELF_LID, phoneNumber: SELF },
    ],
  };
}

let dir: string;
let storage: Storage;
let wa: FakeWa;
let registry: SessionRegistry;
let session: FakeWaSession;
let events: BotEvent[];

/** Stores a LID ↔ number pair the way Baileys' LID mapping store does (auth keys `lid-mapping`). */
async function storeLidMapping(lid: string, phone: string): Promise<void> {
  const lidUser = lid.split('@')[0] ?? '';
  const pnUser = phone.split('@')[0] ?? '';
  await session.current.options.auth.keys.set({ 'lid-mapping': { [pnUser]: lidUser, [`${lidUser}_reverse`]: pnUser } });
}

function metadataCalls(): number {
  return session.calls.filter((call) => call.method === 'groupMetadata').length;
}

const metadata = () => registry.groupMetadata({ id: 'g', sessionId: 'default', chat: GROUP });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-groups-'));
  storage = openStorage(dir);
  wa = createFakeWa();
  registry = createSessionRegistry({ storage, socketFactory: wa.factory, maxMediaBytes: 2 ** 20, logger: pino({ level: 'silent' }) });
  events = [];
  registry.on('journaled', (entry: JournalEntry) => {
    if (entry.event.type !== 'session:changed') events.push(journalEntrySchema.parse(entry).event);
  });
  await registry.create('default');
  session = wa.session('default');
  await session.waitForSocket();
  session.open({ jid: '15550000001', lid: SELF_LID });
  expect(registry.get('default')?.status).toBe('CONNECTED');
  session.groups.set(GROUP, lidGroup());
});

afterEach(async () => {
  await registry.stopAll();
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('group metadata cache', () => {
  it('fetches a group once and names LID members by phone number, from the notification or from the stored LID mapping', async () => {
    await storeLidMapping(BOB_LID, BOB);
    const first = await metadata();
    expect(first).toEqual({
      jid: GROUP,
      subject: 'Sticker swap',
      owner: ALICE,
      announce: false,
      participants: [
        { jid: ALICE, lid: ALICE_LID, admin: 'superadmin' },
        { jid: BOB, lid: BOB_LID },
        { jid: CAROL, lid: CAROL_LID },
        { jid: SELF, lid: SELF_LID },
      ],
    });
    // Concurrent and later asks are answered from memory.
    const [second, third] = await Promise.all([metadata(), metadata()]);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(metadataCalls()).toBe(1);
  });

  it('keeps a cached group current from participant and settings notifications, before their events are published', async () => {
    await metadata();
    const seen: string[][] = [];
    // A listener of the journaled event reads the group at once: it must see the change.
    const readAtOnce = (entry: JournalEntry) => {
      if (entry.event.type === 'group:participants-changed') void metadata().then((group) => seen.push(group.participants.filter((p) => p.admin).map((p) => p.jid)));
    };
    registry.on('journaled', readAtOnce);

    session.participants({ group: GROUP, action: 'promote', participants: [{ id: CAROL_LID, phoneNumber: CAROL }], author: ALICE_LID, authorPn: ALICE });
    session.participants({ group: GROUP, action: 'remove', participants: [BOB_LID], author: ALICE_LID, authorPn: ALICE });
    session.participants({ group: GROUP, action: 'add', participants: [{ id: '44444444444444@lid', phoneNumber: '4915100000004' }] });
    session.participants({ group: GROUP, action: 'demote', participants: [CAROL_LID] });
    session.groupUpdate({ id: GROUP, subject: 'Sticker swap 2', announce: true, author: ALICE_LID, authorPn: ALICE });
    session.groupUpdate({ id: GROUP, inviteCode: 'abc' });

    const group = await metadata();
    expect(group.subject).toBe('Sticker swap 2');
    expect(group.announce).toBe(true);
    expect(group.participants).toEqual([
      { jid: ALICE, lid: ALICE_LID, admin: 'superadmin' },
      { jid: CAROL, lid: CAROL_LID },
      { jid: SELF, lid: SELF_LID },
      { jid: '4915100000004@s.whatsapp.net', lid: '44444444444444@lid' },
    ]);
    expect(metadataCalls()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    registry.off('journaled', readAtOnce);
    expect(seen).toEqual([[ALICE, CAROL], [ALICE, CAROL], [ALICE, CAROL], [ALICE]]);

    expect(events).toEqual([
      { type: 'group:participants-changed', chat: GROUP, action: 'promote', participants: [CAROL], author: ALICE, subject: 'Sticker swap' },
      { type: 'group:participants-changed', chat: GROUP, action: 'remove', participants: [BOB_LID], author: ALICE, subject: 'Sticker swap' },
      { type: 'group:participants-changed', chat: GROUP, action: 'add', participants: ['4915100000004@s.whatsapp.net'], subject: 'Sticker swap' },
      { type: 'group:participants-changed', chat: GROUP, action: 'demote', participants: [CAROL_LID], subject: 'Sticker swap' },
      { type: 'group:updated', chat: GROUP, subject: 'Sticker swap 2', announce: true, author: ALICE },
    ]);
  });

  it('drops a group the bot was removed from, journals the removal, and asks WhatsApp again next time', async () => {
    await metadata();
    session.participants({ group: GROUP, action: 'remove', participants: [{ id: SELF_LID, phoneNumber: SELF }], author: ALICE_LID, authorPn: ALICE });
    expect(events).toEqual([
      { type: 'group:participants-changed', chat: GROUP, action: 'remove', participants: [SELF], author: ALICE, subject: 'Sticker swap', includesSelf: true },
    ]);
    // WhatsApp no longer answers for a group the bot is not in.
    session.groups.delete(GROUP);
    await expect(metadata()).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    expect(metadataCalls()).toBe(2);

    // Added back: fetched afresh, with whatever changed meanwhile.
    session.groups.set(GROUP, { ...lidGroup(), subject: 'Back again' });
    session.participants({ group: GROUP, action: 'add', participants: [SELF_LID] });
    expect(events.at(-1)).toMatchObject({ action: 'add', participants: [SELF], includesSelf: true });
    await expect(metadata()).resolves.toMatchObject({ subject: 'Back again' });
  });

  it('does not keep an answer that a notification overtook while it was being fetched', async () => {
    session.delayNextCall('groupMetadata', 30);
    const racing = metadata();
    await new Promise((resolve) => setTimeout(resolve, 5));
    session.participants({ group: GROUP, action: 'promote', participants: [BOB_LID] });
    await racing;
    await metadata();
    expect(metadataCalls()).toBe(2);
  });

  it("takes Baileys' re-fetch of every group as a fresh snapshot for the cache, not as a change to journal", async () => {
    await metadata();
    session.groupUpdate({ ...lidGroup(), subject: 'Renamed while away', participants: [{ id: ALICE_LID, phoneNumber: ALICE, admin: 'superadmin' }] });
    expect(events).toEqual([]);
    await expect(metadata()).resolves.toMatchObject({ subject: 'Renamed while away', participants: [{ jid: ALICE, lid: ALICE_LID, admin: 'superadmin' }] });
    expect(metadataCalls()).toBe(1);
  });

  it('forgets every group on a new connection', async () => {
    await metadata();
    session.close(428);
    await session.waitForSocket({ fresh: true });
    await expect.poll(() => registry.get('default')?.status, { timeout: 10_000 }).toBe('CONNECTED');
    await metadata();
    expect(metadataCalls()).toBe(2);
  });
});

describe('group metadata cache bounds', () => {
  function group(i: number, members = 50): GroupMetadata {
    const participants = Array.from({ length: members }, (_, m) => ({ id: `49151${String(m).padStart(8, '0')}@s.whatsapp.net` }));
    return { id: `1203630000${String(i).padStart(8, '0')}@g.us`, subject: `group ${i}`, participants } as GroupMetadata;
  }

  it('keeps at most maxGroups, the least recently used going first, when filled past it', async () => {
    const cache = createGroupMetadataCache((meta) => toGroupInfo(meta), { maxGroups: 20 });
    let fetches = 0;
    const fetch = (i: number) => () => {
      fetches += 1;
      return Promise.resolve(group(i));
    };
    for (let i = 0; i < 500; i += 1) {
      await cache.get(group(i).id, fetch(i));
      if (i % 7 === 0) await cache.get(group(0).id, fetch(0));
      expect(cache.size).toBeLessThanOrEqual(20);
    }
    expect(cache.size).toBe(20);
    // Group 0, used all along, stayed; group 480 was pushed out by the 20 after it.
    fetches = 0;
    await cache.get(group(0).id, fetch(0));
    await cache.get(group(499).id, fetch(499));
    expect(fetches).toBe(0);
    await cache.get(group(480).id, fetch(480));
    expect(fetches).toBe(1);
    // Its estimated bytes follow what it holds, not what passed through it.
    const bytes = cache.bytes;
    expect(bytes).toBeGreaterThan(20 * 100);
    for (let i = 500; i < 600; i += 1) await cache.get(group(i).id, fetch(i));
    expect(cache.bytes).toBeLessThan(bytes * 1.5);
  });

  it('fetches a group afresh once it is older than maxAgeMs, however often it is used', async () => {
    const clock = { now: 0 };
    const cache = createGroupMetadataCache((meta) => toGroupInfo(meta), { maxAgeMs: 60_000 }, () => clock.now);
    let fetches = 0;
    const fetch = () => {
      fetches += 1;
      return Promise.resolve(group(1, 3));
    };
    await cache.get(group(1).id, fetch);
    for (clock.now = 0; clock.now < 60_000; clock.now += 10_000) await cache.get(group(1).id, fetch);
    expect(fetches).toBe(1);
    clock.now = 60_000;
    await cache.get(group(1).id, fetch);
    expect(fetches).toBe(2);
    expect(cache.size).toBe(1);
  });
});

describe('LID senders', () => {
  it('journals a LID sender under their phone number: from the key, from the stored mapping, else as the LID', async () => {
    await storeLidMapping(BOB_LID, BOB);
    session.receiveText({ from: ALICE_LID, fromAlt: ALICE, chat: GROUP, text: '!sessions' });
    session.receiveText({ from: BOB_LID, chat: GROUP, text: 'hi' });
    session.receiveText({ from: CAROL_LID, chat: GROUP, text: 'hello' });
    session.receiveText({ from: ALICE_LID, fromAlt: ALICE, text: 'private' });
    const senders = events.map((event) => (event.type === 'message:received' ? [event.message.chat, event.message.sender, event.message.senderLid] : []));
    expect(senders).toEqual([
      [GROUP, ALICE, ALICE_LID],
      [GROUP, BOB, BOB_LID],
      [GROUP, CAROL_LID, CAROL_LID],
      [ALICE_LID, ALICE, ALICE_LID],
    ]);
  });
});

describe('quoted media', () => {
  it("downloads an image the bot never journaled from the copy in a journaled message that quotes it, and from nothing else", async () => {
    const old = session.undeliveredImage({ from: BOB_LID, chat: GROUP, data: Buffer.from('old-jpeg') });
    const oldId = old.key.id ?? '';
    const ask = session.receiveText({ from: ALICE_LID, fromAlt: ALICE, chat: GROUP, text: '!s', quotedId: oldId, quotedParticipant: BOB_LID, quotedMessage: old.message ?? undefined });
    const plain = session.receiveText({ from: ALICE_LID, fromAlt: ALICE, chat: GROUP, text: 'no quote' });
    const download = (quotedBy?: string) => registry.downloadMedia({ id: 'd', sessionId: 'default', messageId: oldId, ...(quotedBy === undefined ? {} : { quotedBy }) });

    await expect(download()).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    await expect(download(plain.key.id ?? '')).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    const media = await download(ask.key.id ?? '');
    expect(Buffer.from(media.data).toString()).toBe('old-jpeg');
    expect(media.mimetype).toBe('image/jpeg');
    const call = session.calls.find((c) => c.method === 'downloadMedia');
    expect(call?.args).toEqual([oldId]);
  });
});
