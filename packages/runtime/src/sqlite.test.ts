import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StickerbotError } from '@stickerbot/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMigrations, openDatabase, type SqliteDatabase } from './sqlite-database.js';

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

function writeMigrations(files: Record<string, string>): string {
  const folder = join(dir, 'migrations');
  mkdirSync(folder, { recursive: true });
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
  return folder;
}

function tables(db: SqliteDatabase): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

describe('openDatabase', () => {
  it('creates the folder and file with WAL, NORMAL sync, a busy timeout, foreign keys and every table', () => {
    const db = track(openDatabase(join(dir, 'nested', 'daemon.sqlite')));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(loadMigrations().length);
    expect(tables(db)).toEqual(['auth_creds', 'auth_keys', 'command_log', 'journal', 'journal_groups', 'journal_high_water', 'journal_messages', 'outbox', 'sessions']);
  });

  it('uses FULL sync when asked for power-loss durability', () => {
    const db = track(openDatabase(join(dir, 'daemon.sqlite'), { synchronous: 'FULL', busyTimeoutMs: 250 }));
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(250);
  });

  it('keeps data across a reopen without applying migrations twice', () => {
    const file = join(dir, 'daemon.sqlite');
    const first = track(openDatabase(file));
    first.prepare("INSERT INTO sessions (id, status, autostart, created_at, updated_at) VALUES ('a', 'STOPPED', 1, 1, 1)").run();
    first.close();
    const second = track(openDatabase(file));
    expect(second.prepare('SELECT id FROM sessions').all()).toEqual([{ id: 'a' }]);
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

  it('refuses a database written by a newer daemon', () => {
    const file = join(dir, 'daemon.sqlite');
    const db = track(openDatabase(file));
    db.pragma('user_version = 99');
    db.close();
    expect(() => openDatabase(file)).toThrow(/schema version 99.*newer daemon/);
  });

  it('refuses migration numbers with a gap', () => {
    const folder = writeMigrations({ '001-init.sql': 'SELECT 1;', '003-skip.sql': 'SELECT 1;' });
    expect(() => loadMigrations(folder)).toThrow(StickerbotError);
    expect(() => loadMigrations(folder)).toThrow(/003-skip\.sql should be number 2/);
  });

  it('reports a file that is not a database with a typed error', () => {
    const file = join(dir, 'garbage.sqlite');
    writeFileSync(file, 'this is not a sqlite database, just some text that is long enough to matter'.repeat(20));
    expect(() => openDatabase(file)).toThrow(StickerbotError);
  });
});
