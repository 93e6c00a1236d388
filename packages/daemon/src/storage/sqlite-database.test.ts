import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations } from '@stickerbot/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAEMON_MIGRATIONS_DIR, openDatabase, type SqliteDatabase } from './sqlite-database.js';

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
    expect(tables).toEqual(['auth_creds', 'auth_keys', 'command_log', 'journal', 'journal_groups', 'journal_high_water', 'journal_messages', 'outbox', 'sessions']);
  });

  it('keeps data across a reopen without applying migrations twice', () => {
    const file = join(dir, 'daemon.sqlite');
    const first = track(openDatabase(file));
    first.prepare("INSERT INTO sessions (id, status, autostart, created_at, updated_at) VALUES ('a', 'STOPPED', 1, 1, 1)").run();
    first.close();
    const second = track(openDatabase(file));
    expect(second.prepare('SELECT id FROM sessions').all()).toEqual([{ id: 'a' }]);
  });
});
