import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StickerbotError } from '@stickerbot/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMigrations, openDatabase, type SqliteDatabase } from './sqlite.js';

let dir: string;
const open: SqliteDatabase[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-db-'));
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function track(db: SqliteDatabase): SqliteDatabase {
  open.push(db);
  return db;
}

function writeMigrations(files: Record<string, string>, name = 'migrations'): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
  return folder;
}

function tables(db: SqliteDatabase): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

const INIT = { '001-init.sql': 'CREATE TABLE a (x INTEGER PRIMARY KEY); CREATE TABLE b (y INTEGER REFERENCES a (x));' };

describe('openDatabase', () => {
  it('creates the folder and a private file with WAL, NORMAL sync, a busy timeout, foreign keys and the schema', () => {
    const migrationsDir = writeMigrations(INIT);
    const file = join(dir, 'nested', 'bot.sqlite');
    const db = track(openDatabase(file, { migrationsDir }));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tables(db)).toEqual(['a', 'b']);
    if (process.platform !== 'win32') {
      expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
      for (const name of [file, `${file}-wal`]) expect(statSync(name).mode & 0o777).toBe(0o600);
    }
  });

  it('uses FULL sync when asked for power-loss durability', () => {
    const db = track(openDatabase(join(dir, 'daemon.sqlite'), { migrationsDir: writeMigrations(INIT), synchronous: 'FULL', busyTimeoutMs: 250 }));
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(250);
  });

  it('keeps data across a reopen without applying migrations twice', () => {
    const file = join(dir, 'daemon.sqlite');
    const migrationsDir = writeMigrations(INIT);
    const first = track(openDatabase(file, { migrationsDir }));
    first.prepare('INSERT INTO a (x) VALUES (7)').run();
    first.close();
    const second = track(openDatabase(file, { migrationsDir }));
    expect(second.prepare('SELECT x FROM a').all()).toEqual([{ x: 7 }]);
  });

  it('applies only the migrations newer than the stored user_version, in order', () => {
    const file = join(dir, 'daemon.sqlite');
    const v1 = writeMigrations({ '001-init.sql': 'CREATE TABLE a (x INTEGER);' });
    track(openDatabase(file, { migrationsDir: v1 })).close();
    writeFileSync(join(v1, '002-more.sql'), 'CREATE TABLE b (y INTEGER); INSERT INTO a (x) VALUES (2);');
    writeFileSync(join(v1, '003-again.sql'), 'INSERT INTO a (x) SELECT count(*) FROM b;');
    const db = track(openDatabase(file, { migrationsDir: v1 }));
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.prepare('SELECT x FROM a ORDER BY rowid').all()).toEqual([{ x: 2 }, { x: 0 }]);
  });

  it('rolls a failing migration back entirely and keeps the previous version', () => {
    const file = join(dir, 'daemon.sqlite');
    const folder = writeMigrations({
      '001-init.sql': 'CREATE TABLE a (x INTEGER);',
      '002-broken.sql': 'CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);',
    });
    expect(() => openDatabase(file, { migrationsDir: folder })).toThrow(/migration 002-broken\.sql failed/);
    rmSync(join(folder, '002-broken.sql'));
    const db = track(openDatabase(file, { migrationsDir: folder }));
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tables(db)).toEqual(['a']);
  });

  it('refuses a database written by a newer version', () => {
    const file = join(dir, 'daemon.sqlite');
    const migrationsDir = writeMigrations(INIT);
    const db = track(openDatabase(file, { migrationsDir }));
    db.pragma('user_version = 99');
    db.close();
    expect(() => openDatabase(file, { migrationsDir })).toThrow(/schema version 99 but this stickerbot knows only 1: it was written by a newer version/);
  });

  it('refuses migration numbers with a gap, a duplicate or not starting at 1', () => {
    const gap = writeMigrations({ '001-init.sql': 'SELECT 1;', '003-skip.sql': 'SELECT 1;' }, 'gap');
    expect(() => loadMigrations(gap)).toThrow(StickerbotError);
    expect(() => loadMigrations(gap)).toThrow(/003-skip\.sql should be number 2/);
    expect(() => openDatabase(join(dir, 'gap.sqlite'), { migrationsDir: gap })).toThrow(/003-skip\.sql should be number 2/);
    const duplicate = writeMigrations({ '001-init.sql': 'SELECT 1;', '001-again.sql': 'SELECT 1;' }, 'duplicate');
    expect(() => loadMigrations(duplicate)).toThrow(/should be number 2/);
    const late = writeMigrations({ '002-late.sql': 'SELECT 1;' }, 'late');
    expect(() => loadMigrations(late)).toThrow(/002-late\.sql should be number 1/);
  });

  it('ignores files that are not numbered migrations', () => {
    const folder = writeMigrations({ ...INIT, 'README.md': '# notes', '1-short.sql': 'SELECT 1;' });
    expect(loadMigrations(folder).map((m) => m.name)).toEqual(['001-init.sql']);
  });

  it('reports a file that is not a database with a typed error', () => {
    const file = join(dir, 'garbage.sqlite');
    writeFileSync(file, 'this is not a sqlite database, just some text that is long enough to matter'.repeat(20));
    expect(() => openDatabase(file, { migrationsDir: writeMigrations(INIT) })).toThrow(StickerbotError);
  });
});
