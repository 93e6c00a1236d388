import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadMigrations } from '@stickerbot/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAEMON_MIGRATIONS_DIR, DAEMON_PAGE_SIZE, openDatabase, type SqliteDatabase } from './sqlite-database.js';

// Opening, pragmas and migration rules are the runtime's (packages/runtime/src/sqlite.test.ts);
// this is the daemon's own schema.
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

describe('the daemon database', () => {
  it('has every table after its migrations, numbered without gaps', () => {
    const db = track(openDatabase(join(dir, 'daemon.sqlite')));
    expect(db.pragma('user_version', { simple: true })).toBe(loadMigrations(DAEMON_MIGRATIONS_DIR).length);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(['auth_creds', 'auth_keys', 'command_log', 'journal', 'journal_groups', 'journal_high_water', 'outbox', 'sessions']);
  });

  it('keeps data across a reopen without applying migrations twice', () => {
    const file = join(dir, 'daemon.sqlite');
    const first = track(openDatabase(file));
    first.prepare("INSERT INTO sessions (id, status, autostart, created_at, updated_at) VALUES ('a', 'STOPPED', 1, 1, 1)").run();
    first.close();
    const second = track(openDatabase(file));
    expect(second.prepare('SELECT id FROM sessions').all()).toEqual([{ id: 'a' }]);
  });

  it('creates a new database with the daemon page size and leaves an existing one at its own', () => {
    expect(track(openDatabase(join(dir, 'new.sqlite'))).pragma('page_size', { simple: true })).toBe(DAEMON_PAGE_SIZE);
    const file = join(dir, 'old.sqlite');
    const old = openDatabase(file, { pageSize: 4096 });
    old.close();
    expect(track(openDatabase(file)).pragma('page_size', { simple: true })).toBe(4096);
  });

  it('moves the Signal keys of a database written before migration 006 into the rowid table, unique by key', () => {
    const v5 = join(dir, 'migrations-v5');
    mkdirSync(v5);
    const all = readdirSync(fileURLToPath(DAEMON_MIGRATIONS_DIR)).filter((name) => name.endsWith('.sql')).sort();
    for (const name of all.slice(0, 5)) copyFileSync(fileURLToPath(new URL(name, DAEMON_MIGRATIONS_DIR)), join(v5, name));
    const file = join(dir, 'daemon.sqlite');
    const old = openDatabase(file, { migrationsDir: pathToFileURL(`${v5}/`) });
    old.prepare("INSERT INTO auth_keys (session_id, type, id, value) VALUES ('main', 'session', '4915.0', '{\"a\":1}')").run();
    old.close();
    const db = track(openDatabase(file));
    expect(db.prepare('SELECT session_id, type, id, value FROM auth_keys').all()).toEqual([{ session_id: 'main', type: 'session', id: '4915.0', value: '{"a":1}' }]);
    expect(() => db.prepare("INSERT INTO auth_keys (session_id, type, id, value) VALUES ('main', 'session', '4915.0', 'x')").run()).toThrow(/UNIQUE/);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'auth_keys'").pluck().get()).not.toMatch(/WITHOUT ROWID/);
  });
});
