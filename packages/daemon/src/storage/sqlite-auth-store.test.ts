import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addTransactionCapability, BufferJSON, proto, type SignalDataSet } from '@whiskeysockets/baileys';
// Not re-exported by Baileys' index: the store whose keys `phoneOfLid` reads.
import { LIDMappingStore } from '@whiskeysockets/baileys/lib/Signal/lid-mapping.js';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from './sqlite-database.js';
import { createSqliteAuthStore, type SqliteAuthStore } from './sqlite-auth-store.js';

let dir: string;
let file: string;
const open: SqliteDatabase[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-auth-'));
  file = join(dir, 'daemon.sqlite');
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(): { db: SqliteDatabase; store: SqliteAuthStore } {
  const db = openDatabase(file);
  open.push(db);
  return { db, store: createSqliteAuthStore(db) };
}

/** Serialises with BufferJSON so that Buffer vs Uint8Array does not hide a byte difference. */
function bytesOf(value: unknown): string {
  return JSON.stringify(value, BufferJSON.replacer);
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

describe('sqlite auth store', () => {
  it("reads the phone number of a LID from the mapping Baileys' LID store wrote, and nothing for an unknown LID", async () => {
    const { store } = openStore();
    const logger = pino({ level: 'silent' });
    const keys = addTransactionCapability(store.open('lids').state.keys, logger, { maxCommitRetries: 1, delayBetweenTriesMs: 1 });
    await new LIDMappingStore(keys, logger).storeLIDPNMappings([{ lid: '207652113936507@lid', pn: '4915100000001@s.whatsapp.net' }]);
    expect(store.phoneOfLid('lids', '207652113936507@lid')).toBe('4915100000001@s.whatsapp.net');
    expect(store.phoneOfLid('lids', '207652113936507:3@lid')).toBe('4915100000001@s.whatsapp.net');
    expect(store.phoneOfLid('lids', '999@lid')).toBeUndefined();
    expect(store.phoneOfLid('other', '207652113936507@lid')).toBeUndefined();
    expect(store.phoneOfLid('lids', '4915100000001@s.whatsapp.net')).toBeUndefined();
  });

  it('starts a new session with fresh creds and no credentials stored', async () => {
    const { store } = openStore();
    const { state } = store.open('fresh');
    expect(state.creds.registered).toBe(false);
    expect(Buffer.isBuffer(state.creds.noiseKey.private)).toBe(true);
    expect(await state.keys.get('pre-key', ['1'])).toEqual({});
    expect(store.hasCredentials('fresh')).toBe(false);
    expect(store.sessionIds()).toEqual([]);
  });

  it('round-trips creds and Signal keys byte for byte across a close and reopen', async () => {
    const first = openStore();
    const { state, saveCreds } = first.store.open('default');
    state.creds.me = { id: '491511111111:3@s.whatsapp.net', name: 'Bot', lid: '1234:3@lid' };
    state.creds.routingInfo = Buffer.from([9, 8, 7]);
    state.creds.account = {
      details: bytes(1, 2, 3),
      accountSignatureKey: bytes(4, 5),
      accountSignature: bytes(6),
      deviceSignature: bytes(7, 0, 255),
    };
    saveCreds();
    const appStateKey = { keyData: bytes(42, 43, 44), fingerprint: { rawId: 7, currentIndex: 2, deviceIndexes: [0, 1] }, timestamp: 1_700_000_000 };
    const written: SignalDataSet = {
      'pre-key': { '1': { public: Buffer.from([1, 1, 1]), private: Buffer.from([2, 2, 2]) } },
      session: { '491511111111.0': bytes(0, 128, 255) },
      'sender-key-memory': { 'group@g.us': { '491522222222@s.whatsapp.net': true } },
      'app-state-sync-key': { AAAA: appStateKey },
      'lid-mapping': { '491511111111': '1234@lid' },
      'device-list': { '491511111111': ['0', '3'] },
    };
    await state.keys.set(written);
    const credsBefore = bytesOf(state.creds);
    first.db.close();

    const second = openStore();
    expect(second.store.hasCredentials('default')).toBe(true);
    const reopened = second.store.open('default').state;
    expect(bytesOf(reopened.creds)).toBe(credsBefore);
    expect(Buffer.isBuffer(reopened.creds.signedIdentityKey.private)).toBe(true);
    expect(reopened.creds.signedPreKey.signature).toEqual(state.creds.signedPreKey.signature);

    const preKeys = await reopened.keys.get('pre-key', ['1', '2']);
    expect(Object.keys(preKeys)).toEqual(['1']);
    expect(bytesOf(preKeys['1'])).toBe(bytesOf(written['pre-key']?.['1']));
    const sessions = await reopened.keys.get('session', ['491511111111.0']);
    expect([...(sessions['491511111111.0'] ?? [])]).toEqual([0, 128, 255]);
    expect(await reopened.keys.get('sender-key-memory', ['group@g.us'])).toEqual(written['sender-key-memory']);
    expect(await reopened.keys.get('lid-mapping', ['491511111111'])).toEqual({ '491511111111': '1234@lid' });
    expect(await reopened.keys.get('device-list', ['491511111111'])).toEqual({ '491511111111': ['0', '3'] });

    const { AAAA: syncKey } = await reopened.keys.get('app-state-sync-key', ['AAAA']);
    expect(syncKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect([...(syncKey?.keyData ?? [])]).toEqual([42, 43, 44]);
    expect(syncKey?.fingerprint?.rawId).toBe(7);
    expect(syncKey?.fingerprint?.deviceIndexes).toEqual([0, 1]);
  });

  it('deletes a key when it is set to null', async () => {
    const { store } = openStore();
    const { keys } = store.open('default').state;
    await keys.set({ session: { a: bytes(1), b: bytes(2) } });
    await keys.set({ session: { a: null } });
    expect(Object.keys(await keys.get('session', ['a', 'b']))).toEqual(['b']);
    expect(store.keyCount('default')).toBe(1);
  });

  it('writes a key again only when its bytes changed; a Signal session always', async () => {
    const { db, store } = openStore();
    const { keys } = store.open('default').state;
    const writes = db.prepare<[], number>('SELECT total_changes()').pluck();
    await keys.set({ 'lid-mapping': { '4915': '9001' }, 'identity-key': { a: bytes(1, 2) } });
    const afterFirst = writes.get() ?? 0;
    await keys.set({ 'lid-mapping': { '4915': '9001' }, 'identity-key': { a: bytes(1, 2) } });
    expect(writes.get()).toBe(afterFirst);
    await keys.set({ 'lid-mapping': { '4915': '9001' }, 'identity-key': { a: bytes(1, 3) } });
    expect(writes.get()).toBe(afterFirst + 1);
    expect(bytesOf((await keys.get('identity-key', ['a'])).a)).toBe(bytesOf(Buffer.from([1, 3])));
    // Baileys sets a session after each message it ciphers, always changed: written unread.
    await keys.set({ session: { s: bytes(4) } });
    await keys.set({ session: { s: bytes(4) } });
    expect(writes.get()).toBe(afterFirst + 3);
    expect(bytesOf((await keys.get('session', ['s'])).s)).toBe(bytesOf(Buffer.from([4])));
  });

  it('stores a Signal session packed in one page (no overflow page), and reads keys and creds written before packing', async () => {
    const { db, store } = openStore();
    // What the code before packing wrote: BufferJSON text.
    const oldSession = { _sessions: { base: { registrationId: 7, rootKey: Buffer.alloc(32, 3) } }, version: 'v1' };
    db.prepare("INSERT INTO auth_keys (session_id, type, id, value) VALUES ('default', 'session', 'old.0', ?)").run(bytesOf(oldSession));
    const { state } = store.open('default');
    db.prepare('INSERT INTO auth_creds (session_id, creds, updated_at) VALUES (?, ?, 0)').run('default', bytesOf({ ...state.creds, me: { id: '4915@s.whatsapp.net' } }));
    expect(bytesOf((await state.keys.get('session', ['old.0']))['old.0'])).toBe(bytesOf(oldSession));
    expect(store.hasCredentials('default')).toBe(true);

    // A session record as libsignal serialises it: ~1.9 KB of JSON with base64 keys.
    const key = (n: number): string => Buffer.alloc(32, n).toString('base64');
    const chains = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [key(i + 10), { chainKey: { counter: i, key: key(i + 20) }, chainType: 1, messageKeys: { [i]: key(i + 30) } }]));
    const record = JSON.stringify({
      _sessions: {
        [key(1)]: {
          registrationId: 12_328,
          currentRatchet: { ephemeralKeyPair: { pubKey: key(2), privKey: key(3) }, lastRemoteEphemeralKey: key(4), previousCounter: 0, rootKey: key(5) },
          indexInfo: { baseKey: key(1), baseKeyType: 2, closed: -1, used: 1_796_172_318_125, created: 1_796_172_318_125, remoteIdentityKey: key(6) },
          _chains: chains,
        },
      },
      version: 'v1',
    });
    const session = Buffer.from(record);
    expect(bytesOf(session).length).toBeGreaterThan(1200);
    await state.keys.set({ session: { 'new.0': session } });
    const row = db.prepare<[], { kind: string; bytes: number }>("SELECT typeof(value) AS kind, length(value) AS bytes FROM auth_keys WHERE id = 'new.0'").get();
    expect(row?.kind).toBe('blob');
    // A table leaf of a 1 KB page keeps up to 989 bytes of a row locally.
    expect(row?.bytes).toBeLessThan(900);
    expect(bytesOf((await state.keys.get('session', ['new.0']))['new.0'])).toBe(bytesOf(session));

    // Packing is deterministic: a packed key set again with the same bytes compares equal as
    // stored and is not written (a Signal session is written always, see above).
    await state.keys.set({ 'sender-key': { 'group.0': Buffer.from(record) } });
    const writes = db.prepare<[], number>('SELECT total_changes()').pluck();
    const before = writes.get() ?? 0;
    await state.keys.set({ 'sender-key': { 'group.0': Buffer.from(record) } });
    expect(writes.get()).toBe(before);
  });

  it('writes every key of one set call in one transaction: all or nothing', async () => {
    const { store } = openStore();
    const { keys } = store.open('default').state;
    await keys.set({ session: { kept: bytes(1) } });
    // A BigInt cannot be serialised: the second row fails after the first was written.
    const poisoned = { session: { first: bytes(5), kept: null }, 'lid-mapping': { bad: 10n as unknown as string } } as SignalDataSet;
    expect(() => keys.set(poisoned)).toThrow(/BigInt/);
    expect(Object.keys(await keys.get('session', ['first', 'kept']))).toEqual(['kept']);
    expect(store.keyCount('default')).toBe(1);
  });

  it('clears one session on logout and leaves every other session intact', async () => {
    const { store } = openStore();
    for (const id of ['alice', 'bob']) {
      const { state, saveCreds } = store.open(id);
      state.creds.me = { id: `${id}@s.whatsapp.net` };
      saveCreds();
      await state.keys.set({ 'pre-key': { '1': { public: Buffer.from(id), private: Buffer.from(id) } }, session: { x: bytes(1) } });
    }
    store.clear('alice');
    expect(store.hasCredentials('alice')).toBe(false);
    expect(store.keyCount('alice')).toBe(0);
    expect(store.sessionIds()).toEqual(['bob']);
    expect(store.hasCredentials('bob')).toBe(true);
    expect(store.keyCount('bob')).toBe(2);
    const bobKeys = await store.open('bob').state.keys.get('pre-key', ['1']);
    expect(bobKeys['1']?.public.toString()).toBe('bob');
    // After a logout the next open starts over with fresh creds (a new QR).
    expect(store.open('alice').state.creds.me).toBeUndefined();
  });

  it('keeps key ids of different sessions and types apart', async () => {
    const { store } = openStore();
    const a = store.open('a').state.keys;
    const b = store.open('b').state.keys;
    await a.set({ session: { same: bytes(1) }, 'sender-key': { same: bytes(2) } });
    await b.set({ session: { same: bytes(3) } });
    expect([...((await a.get('session', ['same'])).same ?? [])]).toEqual([1]);
    expect([...((await a.get('sender-key', ['same'])).same ?? [])]).toEqual([2]);
    expect([...((await b.get('session', ['same'])).same ?? [])]).toEqual([3]);
    await b.clear?.();
    expect(store.keyCount('b')).toBe(0);
    expect(store.keyCount('a')).toBe(2);
  });

  it('counts a session without a completed login as having no credentials', () => {
    const { store } = openStore();
    store.open('half').saveCreds();
    expect(store.sessionIds()).toEqual(['half']);
    expect(store.hasCredentials('half')).toBe(false);
  });
});
