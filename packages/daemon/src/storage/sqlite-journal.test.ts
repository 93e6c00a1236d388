import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StickerbotError, type BotEvent } from '@stickerbot/protocol';
import type { WAMessage } from '@whiskeysockets/baileys';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type SqliteDatabase } from './sqlite-database.js';
import { createSqliteJournal, DEFAULT_POSITION_DELAY_MS, type SqliteJournal } from './sqlite-journal.js';

let dir: string;
let file: string;
const open: SqliteDatabase[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-journal-'));
  file = join(dir, 'daemon.sqlite');
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function openJournal(): { db: SqliteDatabase; journal: SqliteJournal } {
  const db = openDatabase(file);
  open.push(db);
  return { db, journal: createSqliteJournal(db) };
}

/** A raw text message as the journal keeps it; `n` tells versions of one id apart. */
function stored(id: string, n: number): WAMessage {
  return { key: { remoteJid: '491511111111@s.whatsapp.net', id, fromMe: false }, message: { conversation: `n${n}` } };
}

function received(id: string, text = 'hello'): BotEvent {
  return {
    type: 'message:received',
    message: {
      id,
      chat: '491511111111@s.whatsapp.net',
      sender: '491511111111@s.whatsapp.net',
      fromMe: false,
      isGroup: false,
      timestamp: 1_700_000_000_000,
      kind: 'text',
      text,
      backlog: false,
    },
  };
}

const reaction: BotEvent = {
  type: 'reaction:received',
  messageId: 'ABC',
  chat: '491511111111@s.whatsapp.net',
  sender: '491522222222@s.whatsapp.net',
  emoji: '👍',
  timestamp: 1_700_000_000_000,
};

function appendMany(journal: SqliteJournal, n: number, ts?: (i: number) => number): void {
  for (let i = 0; i < n; i += 1) journal.append({ sessionId: 'default', event: received(`M${i}`), ts: ts?.(i) ?? Date.now() });
}

const policy = { maxAgeMs: 60_000, maxCount: 1_000, maxUnacknowledged: 1_000 };

describe('sqlite journal', () => {
  it('assigns strictly increasing seqs from 1 and reads entries after a position in order', () => {
    const { journal } = openJournal();
    const first = journal.append({ sessionId: 'default', event: received('A'), ts: 10 });
    const second = journal.append({ sessionId: 'other', event: reaction, ts: 11 });
    const third = journal.append({ sessionId: 'default', event: received('C', 'third') });
    expect([first.seq, second.seq, third.seq]).toEqual([1, 2, 3]);
    expect(first).toEqual({ seq: 1, sessionId: 'default', ts: 10, event: received('A') });
    expect(journal.readAfter(0, 10)).toEqual([first, second, third]);
    expect(journal.readAfter(1, 1)).toEqual([second]);
    expect(journal.readAfter(3, 10)).toEqual([]);
    expect(journal.lastSeq()).toBe(3);
    expect(journal.count()).toBe(3);
  });

  it('appends a batch in one transaction, in order, all or nothing', () => {
    const { journal } = openJournal();
    journal.append({ sessionId: 'default', event: reaction });
    const entries = journal.appendMany([
      { sessionId: 'default', event: received('B1'), raw: { key: { id: 'B1' }, message: { imageMessage: { mediaKey: Buffer.from([1]) } } }, ts: 5 },
      { sessionId: 'other', event: received('B2') },
    ]);
    expect(entries.map((e) => [e.seq, e.sessionId])).toEqual([[2, 'default'], [3, 'other']]);
    expect(entries[0]?.ts).toBe(5);
    expect(journal.findRawMessage('default', 'B1')).toEqual({ key: { id: 'B1' }, message: { imageMessage: { mediaKey: Buffer.from([1]) } } });
    expect(journal.appendMany([])).toEqual([]);
    // A raw value that cannot be serialised fails the whole batch: nothing of it is kept.
    expect(() =>
      journal.appendMany([
        { sessionId: 'default', event: received('C1') },
        { sessionId: 'default', event: received('C2'), raw: { key: { id: 'C2' }, messageTimestamp: 1n as unknown as number } },
      ]),
    ).toThrow(/BigInt/);
    expect(journal.readAfter(0, 100).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(journal.append({ sessionId: 'default', event: reaction }).seq).toBeGreaterThan(3);
  });

  it('never reuses a seq after everything was pruned and the daemon restarted', () => {
    const first = openJournal();
    appendMany(first.journal, 5, () => 0);
    first.journal.ack('bot', 5);
    expect(first.journal.prune({ ...policy, now: 120_000 }).pruned).toBe(5);
    expect(first.journal.count()).toBe(0);
    first.db.close();

    const second = openJournal();
    expect(second.journal.lastSeq()).toBe(5);
    expect(second.journal.append({ sessionId: 'default', event: reaction }).seq).toBe(6);
    expect(second.journal.position('bot')).toBe(5);
  });

  it('keeps the highest seq of a journal written before migration 002 (AUTOINCREMENT), even with every row pruned', () => {
    const v1 = join(dir, 'migrations-v1');
    mkdirSync(v1);
    copyFileSync(fileURLToPath(new URL('./migrations/001-init.sql', import.meta.url)), join(v1, '001-init.sql'));
    const old = openDatabase(file, { migrationsDir: pathToFileURL(`${v1}/`) });
    const insert = old.prepare("INSERT INTO journal (session_id, ts, type, event) VALUES ('default', 0, 'reaction:received', '{}')");
    for (let i = 0; i < 7; i++) insert.run();
    old.prepare('DELETE FROM journal').run();
    old.close();

    const { journal } = openJournal();
    expect(journal.count()).toBe(0);
    expect(journal.lastSeq()).toBe(7);
    expect(journal.append({ sessionId: 'default', event: reaction }).seq).toBe(8);
  });

  it('keeps the raw WAMessage with its Buffers and finds it by session and message id', () => {
    const { db, journal } = openJournal();
    const mediaKey = new Uint8Array([0, 1, 2, 250, 255]);
    const thumbnail = Buffer.from('jpeg-bytes\u0000\u00ff', 'latin1');
    const raw = {
      key: { remoteJid: '491511111111@s.whatsapp.net', id: 'IMG1', fromMe: false },
      message: { imageMessage: { mediaKey, jpegThumbnail: thumbnail, mimetype: 'image/jpeg', fileLength: 1234 } },
      messageTimestamp: 1_700_000_000,
    };
    journal.append({ sessionId: 'default', event: received('IMG1'), raw });
    db.close();

    const reopened = openJournal().journal;
    const found = reopened.findRawMessage('default', 'IMG1');
    const image = found?.message?.imageMessage;
    expect(Buffer.isBuffer(image?.mediaKey)).toBe(true);
    expect([...(image?.mediaKey ?? [])]).toEqual([0, 1, 2, 250, 255]);
    expect(Buffer.from(image?.jpegThumbnail ?? []).equals(thumbnail)).toBe(true);
    expect(found?.key).toEqual(raw.key);
    expect(found?.messageTimestamp).toBe(1_700_000_000);
    expect(reopened.findRawMessage('other-session', 'IMG1')).toBeUndefined();
    expect(reopened.findRawMessage('default', 'NOPE')).toBeUndefined();
  });

  it('writes only the journal row on append: the message-id lookup is in memory, no index table on disk', () => {
    const { db, journal } = openJournal();
    for (let i = 0; i < 3; i++) journal.append({ sessionId: 'default', event: received(`K${i}`), raw: stored(`K${i}`, i) });
    journal.append({ sessionId: 'default', event: reaction });
    expect(journal.findRawMessage('default', 'K1')).toEqual(stored('K1', 1));
    expect(journal.findRawMessage('other', 'K1')).toBeUndefined();
    expect(journal.hasMessage('default', 'K2')).toBe(true);
    const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE tbl_name LIKE 'journal%' ORDER BY name").pluck().all();
    expect(tables).toEqual(['journal', 'journal_groups', 'journal_high_water']);
    journal.close();
  });

  it('finds at open the messages a run killed without closing appended, from the journal itself', () => {
    const first = openJournal();
    first.journal.append({ sessionId: 'default', event: received('LOST1'), raw: stored('LOST1', 1) });
    first.journal.append({ sessionId: 'default', event: received('NORAW') });
    first.journal.append({ sessionId: 'second', event: received('LOST1'), raw: stored('LOST1', 2) });
    // Closed without journal.close(), as after a SIGKILL.
    first.db.close();

    const { journal } = openJournal();
    expect(journal.findRawMessage('default', 'LOST1')).toEqual(stored('LOST1', 1));
    expect(journal.findRawMessage('second', 'LOST1')).toEqual(stored('LOST1', 2));
    expect(journal.findRawMessage('default', 'NORAW')).toBeUndefined();
    journal.close();
  });

  it('forgets the messages retention pruned, so the lookup holds what the journal holds', () => {
    const { journal } = openJournal();
    for (let i = 0; i < 200; i++) journal.append({ sessionId: i % 2 === 0 ? 'default' : 'second', event: received(`P${i}`), raw: stored(`P${i}`, i), ts: 0 });
    journal.ack('bot', 200);
    // Past the count bound: the oldest 150 go.
    expect(journal.prune({ ...policy, maxAgeMs: Number.MAX_SAFE_INTEGER, maxCount: 50, now: 1 }).pruned).toBe(150);
    expect(journal.hasMessage('default', 'P0')).toBe(false);
    expect(journal.hasMessage('second', 'P149')).toBe(false);
    expect(journal.findRawMessage('default', 'P150')).toEqual(stored('P150', 150));
    expect(journal.findRawMessage('second', 'P199')).toEqual(stored('P199', 199));
    journal.close();
  });

  it('drops the on-disk index of migration 003 and still finds the messages written before it', () => {
    const v6 = join(dir, 'migrations-v6');
    mkdirSync(v6);
    for (const name of readdirSync(fileURLToPath(new URL('./migrations/', import.meta.url))).filter((file) => file < '007')) {
      copyFileSync(fileURLToPath(new URL(`./migrations/${name}`, import.meta.url)), join(v6, name));
    }
    const old = openDatabase(file, { migrationsDir: pathToFileURL(`${v6}/`) });
    old
      .prepare("INSERT INTO journal (seq, session_id, ts, type, message_id, event, raw) VALUES (1, 'default', 0, 'message:received', 'OLD', '{}', '{\"key\":{\"id\":\"OLD\"}}')")
      .run();
    old.prepare("INSERT INTO journal_messages (seq, session_id, message_id) VALUES (1, 'default', 'OLD')").run();
    old.close();

    const { db, journal } = openJournal();
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'journal_message%'").pluck().get()).toBe(0);
    expect(journal.findRawMessage('default', 'OLD')).toEqual({ key: { id: 'OLD' } });
  });

  it('stores a text message packed, three rows to a 1 KB page (one before), and reads rows written before packing (TEXT)', () => {
    // A database as the code before packing left it: every migration, JSON text in the columns.
    const old = openDatabase(file);
    const oldRaw = JSON.stringify(stored('OLD', 1));
    old
      .prepare("INSERT INTO journal (seq, session_id, ts, type, message_id, event, raw) VALUES (1, 'default', 5, 'message:received', 'OLD', ?, ?)")
      .run(JSON.stringify(received('OLD', 'written before')), oldRaw);
    old.close();

    const { db, journal } = openJournal();
    const raw = (id: string): WAMessage => ({
      key: { remoteJid: '491700000002@s.whatsapp.net', remoteJidAlt: '385107784870891@lid', fromMe: false, id, participant: '', addressingMode: 'pn' },
      messageTimestamp: 1_796_172_380,
      pushName: 'Contact 0002',
      broadcast: false,
      message: { conversation: 'see you at the usual place at eight' },
    });
    for (let i = 0; i < 40; i += 1) {
      const id = `3EB0086C14C5ED66D0C4${String(i).padStart(2, '0')}`;
      journal.append({ sessionId: 'default', event: received(id, 'see you at the usual place at eight'), raw: raw(id) });
    }
    expect(db.prepare("SELECT typeof(event) || typeof(raw) FROM journal WHERE seq = 2").pluck().get()).toBe('blobblob');
    const pages = db.prepare<[], number>("SELECT count(*) FROM dbstat WHERE name = 'journal' AND pagetype = 'leaf'").pluck().get() ?? 0;
    expect(pages).toBeLessThanOrEqual(Math.ceil(41 / 3));

    const entries = journal.readAfter(0, 100);
    expect(entries).toHaveLength(41);
    expect(entries[0]).toEqual({ seq: 1, sessionId: 'default', ts: 5, event: received('OLD', 'written before') });
    expect(entries[40]?.event).toEqual(received('3EB0086C14C5ED66D0C439', 'see you at the usual place at eight'));
    expect(journal.findRawMessage('default', 'OLD')).toEqual(stored('OLD', 1));
    expect(journal.findRawMessage('default', '3EB0086C14C5ED66D0C439')).toEqual(raw('3EB0086C14C5ED66D0C439'));
    expect(journal.findRawMessage('default', '3EB0086C14C5ED66D0C407')).toEqual(raw('3EB0086C14C5ED66D0C407'));
  });

  it('returns the newest raw message when the same id was journaled twice', () => {
    const { journal } = openJournal();
    journal.append({ sessionId: 'default', event: received('DUP'), raw: stored('DUP', 1) });
    journal.append({ sessionId: 'default', event: received('DUP'), raw: stored('DUP', 2) });
    journal.append({ sessionId: 'default', event: received('DUP') });
    expect(journal.findRawMessage('default', 'DUP')).toEqual(stored('DUP', 2));
  });

  it('tells a journaled id from an unknown one without decoding, and refuses a row that no longer decodes with a typed error', () => {
    const { db, journal } = openJournal();
    journal.append({ sessionId: 'default', event: received('GOOD'), raw: stored('GOOD', 1) });
    journal.append({ sessionId: 'default', event: received('BAD'), raw: stored('BAD', 1) });
    db.prepare("UPDATE journal SET raw = '{\"key\":' WHERE message_id = 'BAD'").run();
    expect(journal.hasMessage('default', 'GOOD')).toBe(true);
    expect(journal.hasMessage('default', 'BAD')).toBe(true);
    expect(journal.hasMessage('default', 'NONE')).toBe(false);
    expect(journal.findRawMessage('default', 'GOOD')).toEqual(stored('GOOD', 1));
    let thrown: unknown;
    try {
      journal.findRawMessage('default', 'BAD');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StickerbotError);
    expect(thrown).toMatchObject({ code: 'INTERNAL', retryable: false, message: expect.stringContaining('BAD') as string });
    // A row without a key is not a message either.
    db.prepare("UPDATE journal SET raw = '{\"n\":1}' WHERE message_id = 'BAD'").run();
    expect(() => journal.findRawMessage('default', 'BAD')).toThrow(/BAD/);
  });

  it('acknowledges cumulatively: never backwards, never beyond the last seq', () => {
    const { journal } = openJournal();
    appendMany(journal, 10);
    expect(journal.position('bot')).toBe(0);
    expect(journal.ack('bot', 5)).toBe(5);
    expect(journal.ack('bot', 3)).toBe(5);
    expect(journal.ack('bot', 500)).toBe(10);
    expect(journal.ack('audit', 0)).toBe(0);
    expect(journal.positions().map(({ group, position }) => ({ group, position }))).toEqual([
      { group: 'audit', position: 0 },
      { group: 'bot', position: 10 },
    ]);
    expect(journal.positions()[1]?.updatedAt).toBeGreaterThan(0);
  });

  it('writes acknowledged positions five seconds later, every group in one commit, before a prune and at close; reads see them at once', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    try {
      const { db, journal } = openJournal();
      appendMany(journal, 10, () => 1);
      const stored = db.prepare<[], { name: string; position: number }>('SELECT name, position FROM journal_groups ORDER BY name');
      journal.ensureGroup('bot', 0);
      journal.ack('bot', 3);
      vi.advanceTimersByTime(DEFAULT_POSITION_DELAY_MS / 2);
      journal.ack('bot', 4);
      journal.ack('audit', 2);
      expect(stored.all()).toEqual([{ name: 'bot', position: 0 }]);
      expect(journal.position('bot')).toBe(4);
      expect(journal.positions().map(({ group, position }) => ({ group, position }))).toEqual([
        { group: 'audit', position: 2 },
        { group: 'bot', position: 4 },
      ]);
      // data_version moves when another connection commits: read it from a second one.
      const other = openDatabase(file);
      open.push(other);
      const otherCommits = other.prepare<[], number>('PRAGMA data_version').pluck();
      const before = otherCommits.get();
      vi.advanceTimersByTime(DEFAULT_POSITION_DELAY_MS / 2);
      expect(stored.all()).toEqual([
        { name: 'audit', position: 2 },
        { name: 'bot', position: 4 },
      ]);
      expect((otherCommits.get() ?? 0) - (before ?? 0)).toBe(1);

      // A prune counts what was acknowledged a moment ago.
      journal.ack('bot', 8);
      journal.ack('audit', 8);
      expect(journal.prune({ ...policy, maxAgeMs: 0 }).pruned).toBe(8);
      expect(stored.all()).toEqual([
        { name: 'audit', position: 8 },
        { name: 'bot', position: 8 },
      ]);
      journal.ack('bot', 10);
      journal.close();
      expect(stored.all()).toEqual([
        { name: 'audit', position: 8 },
        { name: 'bot', position: 10 },
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a failed position write, keeps the position for reads, and writes it once it can', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    try {
      const db = openDatabase(file);
      open.push(db);
      const errors: unknown[] = [];
      const journal = createSqliteJournal(db, { onPositionError: (err) => errors.push(err) });
      appendMany(journal, 5);
      db.exec("CREATE TRIGGER refuse_positions BEFORE INSERT ON journal_groups BEGIN SELECT RAISE(ABORT, 'disk full'); END");
      journal.ack('bot', 3);
      vi.advanceTimersByTime(DEFAULT_POSITION_DELAY_MS);
      expect(errors).toHaveLength(1);
      expect(journal.position('bot')).toBe(3);
      db.exec('DROP TRIGGER refuse_positions');
      journal.ack('bot', 4);
      vi.advanceTimersByTime(DEFAULT_POSITION_DELAY_MS);
      expect(db.prepare('SELECT name, position FROM journal_groups').all()).toEqual([{ name: 'bot', position: 4 }]);
      journal.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('loses at most the positions acknowledged within the last five seconds to a crash, never an entry', () => {
    const first = openJournal();
    appendMany(first.journal, 5);
    first.journal.ack('bot', 2);
    // A prune writes the positions acknowledged so far (and here prunes nothing).
    expect(first.journal.prune({ ...policy, maxAgeMs: Infinity }).pruned).toBe(0);
    first.journal.ack('bot', 5);
    // Closed without journal.close(): as after a SIGKILL.
    first.db.close();
    const { journal } = openJournal();
    expect(journal.position('bot')).toBe(2);
    expect(journal.readAfter(journal.position('bot'), 10).map((entry) => entry.seq)).toEqual([3, 4, 5]);
  });

  it('registers a new group at a position without moving a known one', () => {
    const { journal } = openJournal();
    appendMany(journal, 10);
    expect(journal.ensureGroup('fresh', 0)).toBe(0);
    expect(journal.ensureGroup('ahead', 500)).toBe(10);
    journal.ack('bot', 7);
    expect(journal.ensureGroup('bot', 2)).toBe(7);
    expect(journal.ensureGroup('bot', 9)).toBe(7);
    expect(journal.positions().map(({ group, position }) => ({ group, position }))).toEqual([
      { group: 'ahead', position: 10 },
      { group: 'bot', position: 7 },
      { group: 'fresh', position: 0 },
    ]);
  });

  it('refuses a negative or fractional position with INVALID_ARGS', () => {
    const { journal } = openJournal();
    expect(() => journal.ack('bot', -1)).toThrow(StickerbotError);
    expect(() => journal.ack('bot', 1.5)).toThrow(/non-negative integer/);
    expect(() => journal.readAfter(Number.NaN, 10)).toThrow(StickerbotError);
    expect(() => journal.readAfter(0, 0)).toThrow(/limit/);
    expect(journal.positions()).toEqual([]);
  });

  it('prunes nothing while no consumer group is known, and reports every entry unacknowledged', () => {
    const { journal } = openJournal();
    appendMany(journal, 20, () => 0);
    const outcome = journal.prune({ maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 10, now: 1_000_000 });
    expect(outcome).toEqual({ pruned: 0, unacknowledged: 20, full: true });
    expect(journal.count()).toBe(20);
  });

  it('prunes only what every group acknowledged, by age', () => {
    const { journal } = openJournal();
    appendMany(journal, 10, (i) => i * 1_000);
    journal.ack('bot', 8);
    journal.ack('audit', 6);
    // Entries older than 5 s at now = 10 s: seq 1..5 (ts 0..4 s); audit holds 7..10 anyway.
    const outcome = journal.prune({ maxAgeMs: 5_000, maxCount: 1_000, maxUnacknowledged: 4, now: 10_000 });
    expect(outcome).toEqual({ pruned: 5, unacknowledged: 4, full: false });
    expect(journal.readAfter(0, 100).map((e) => e.seq)).toEqual([6, 7, 8, 9, 10]);
  });

  it('prunes acknowledged entries beyond the newest maxCount, however young', () => {
    const { journal } = openJournal();
    appendMany(journal, 10);
    journal.ack('bot', 9);
    const outcome = journal.prune({ maxAgeMs: 3_600_000, maxCount: 3, maxUnacknowledged: 100 });
    // Keeps the newest three (8, 9, 10); 1..7 are acknowledged and beyond the count.
    expect(outcome).toEqual({ pruned: 7, unacknowledged: 1, full: false });
    expect(journal.readAfter(0, 100).map((e) => e.seq)).toEqual([8, 9, 10]);
    expect(journal.findRawMessage('default', 'M0')).toBeUndefined();
  });

  it('never prunes unacknowledged entries even beyond maxCount, and reports a full journal', () => {
    const { journal } = openJournal();
    appendMany(journal, 10, () => 0);
    journal.ack('bot', 2);
    const outcome = journal.prune({ maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 5, now: 1_000 });
    expect(outcome).toEqual({ pruned: 2, unacknowledged: 8, full: true });
    expect(journal.unacknowledged()).toBe(8);
    expect(journal.readAfter(0, 100).map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('deletes at most maxDelete entries per call, oldest first', () => {
    const { journal } = openJournal();
    appendMany(journal, 10, () => 0);
    journal.ack('bot', 10);
    const chunked = { maxAgeMs: 0, maxCount: 0, maxUnacknowledged: 100, maxDelete: 4, now: 1_000 };
    expect(journal.prune(chunked)).toEqual({ pruned: 4, unacknowledged: 0, full: false });
    expect(journal.readAfter(0, 1)[0]?.seq).toBe(5);
    expect(journal.prune(chunked).pruned).toBe(4);
    expect(journal.prune(chunked).pruned).toBe(2);
    expect(journal.prune(chunked).pruned).toBe(0);
    expect(journal.prune({ ...chunked, maxDelete: 0 }).pruned).toBe(0);
  });

  it('counts unacknowledged entries exactly after pruning with holes and removed groups', () => {
    const { journal } = openJournal();
    // Old and young entries interleaved: pruning by age leaves holes below the position.
    appendMany(journal, 12, (i) => (i % 2 === 0 ? 0 : 50_000));
    journal.ack('bot', 8);
    expect(journal.prune({ maxAgeMs: 10_000, maxCount: 1_000, maxUnacknowledged: 100, now: 20_000 })).toEqual({ pruned: 4, unacknowledged: 4, full: false });
    expect(journal.readAfter(0, 100).map((e) => e.seq)).toEqual([2, 4, 6, 8, 9, 10, 11, 12]);
    expect(journal.unacknowledged()).toBe(4);
    journal.removeGroup('bot');
    expect(journal.unacknowledged()).toBe(8);
    expect(journal.count()).toBe(8);
  });

  it('lets retention proceed once a retired group is removed', () => {
    const { journal } = openJournal();
    appendMany(journal, 4, () => 0);
    journal.ack('bot', 4);
    journal.ack('retired', 0);
    expect(journal.prune({ ...policy, now: 120_000 }).pruned).toBe(0);
    expect(journal.removeGroup('retired')).toBe(true);
    expect(journal.removeGroup('retired')).toBe(false);
    expect(journal.prune({ ...policy, now: 120_000 })).toEqual({ pruned: 4, unacknowledged: 0, full: false });
  });

  it('keeps entries forever by age when maxAgeMs is Infinity', () => {
    const { journal } = openJournal();
    appendMany(journal, 3, () => 0);
    journal.ack('bot', 3);
    expect(journal.prune({ maxAgeMs: Number.POSITIVE_INFINITY, maxCount: 10, maxUnacknowledged: 10 }).pruned).toBe(0);
  });
});

describe('sqlite journal durability', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  it('loses no appended entry when the writing process is SIGKILLed mid-stream', { timeout: 90_000 }, async () => {
    const fixture = fileURLToPath(new URL('../../test/fixtures/journal-writer.ts', import.meta.url));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const writer = spawn(process.execPath, ['--conditions=@stickerbot/source', '--import', tsx, fixture, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = writer;
    let stderr = '';
    writer.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const reported = await new Promise<number[]>((resolve, reject) => {
      // Only complete lines count: the kill may land while a line is half written.
      const seqs: number[] = [];
      let partial = '';
      let killed = false;
      const early = (code: number | null): void => reject(new Error(`writer exited early (${String(code)}): ${stderr}`));
      writer.once('exit', early);
      writer.stdout.on('data', (chunk: Buffer) => {
        // Chunks still arrive between the kill and the exit: act once, and remove only our
        // own listener (not the exit waiter below).
        if (killed) return;
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line !== '') seqs.push(Number(line));
        if (seqs.length >= 500) {
          killed = true;
          writer.off('exit', early);
          writer.kill('SIGKILL');
          resolve(seqs);
        }
      });
    });
    await new Promise((resolve) => (writer.exitCode !== null || writer.signalCode !== null ? resolve(null) : writer.once('exit', resolve)));
    expect(writer.signalCode).toBe('SIGKILL');

    const { journal } = openJournal();
    const held = new Set(journal.readAfter(0, 1_000_000).map((e) => e.seq));
    const missing = reported.filter((seq) => !held.has(seq));
    expect(reported.length).toBeGreaterThanOrEqual(500);
    expect(missing).toEqual([]);
    expect(journal.lastSeq()).toBeGreaterThanOrEqual(Math.max(...reported));
  });
});
