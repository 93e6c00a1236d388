import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionStatus } from '@stickerbot/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from './sqlite-database.js';
import { createSqliteSessionStore } from './sqlite-session-store.js';

let dir: string;
let file: string;
const open: SqliteDatabase[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-sessions-'));
  file = join(dir, 'daemon.sqlite');
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore() {
  const db = openDatabase(file);
  open.push(db);
  return { db, store: createSqliteSessionStore(db) };
}

describe('sqlite session store', () => {
  it('persists sessions with account and last error across a reopen, in creation order', () => {
    const first = openStore();
    first.store.save({ id: 'zeta', status: 'STOPPED', autostart: true, updatedAt: 100 });
    first.store.save({
      id: 'alpha',
      status: 'ERROR',
      autostart: false,
      account: { jid: '491511111111@s.whatsapp.net', phone: '491511111111', name: 'Bot' },
      lastError: { code: 'SESSION_NOT_CONNECTED', message: 'conflict', retryable: true },
      updatedAt: 200,
    });
    first.db.close();

    const { store } = openStore();
    expect(store.list()).toEqual([
      { id: 'zeta', status: 'STOPPED', autostart: true, createdAt: 100, updatedAt: 100 },
      {
        id: 'alpha',
        status: 'ERROR',
        autostart: false,
        account: { jid: '491511111111@s.whatsapp.net', phone: '491511111111', name: 'Bot' },
        lastError: { code: 'SESSION_NOT_CONNECTED', message: 'conflict', retryable: true },
        createdAt: 200,
        updatedAt: 200,
      },
    ]);
  });

  it('keeps createdAt on update and clears fields that are no longer given', () => {
    const { store } = openStore();
    store.save({ id: 'default', status: 'ERROR', autostart: true, lastError: { code: 'INTERNAL', message: 'x', retryable: false }, updatedAt: 1 });
    const updated = store.save({ id: 'default', status: 'CONNECTED', autostart: true, account: { jid: 'me@s.whatsapp.net' }, updatedAt: 5 });
    expect(updated).toEqual({ id: 'default', status: 'CONNECTED', autostart: true, account: { jid: 'me@s.whatsapp.net' }, createdAt: 1, updatedAt: 5 });
    expect(store.get('default')).toEqual(updated);
    expect(store.list()).toHaveLength(1);
  });

  it('stamps updatedAt with the current time when none is given', () => {
    const { store } = openStore();
    const before = Date.now();
    const saved = store.save({ id: 'default', status: 'CONNECTING', autostart: true });
    expect(saved.updatedAt).toBeGreaterThanOrEqual(before);
    expect(saved.createdAt).toBe(saved.updatedAt);
  });

  it('removes a session and answers undefined for unknown ids', () => {
    const { store } = openStore();
    store.save({ id: 'a', status: 'STOPPED', autostart: false });
    store.save({ id: 'b', status: 'STOPPED', autostart: false });
    store.remove('a');
    store.remove('never-existed');
    expect(store.get('a')).toBeUndefined();
    expect(store.list().map((s) => s.id)).toEqual(['b']);
  });

  it('refuses a status outside the state machine', () => {
    const { store } = openStore();
    expect(() => store.save({ id: 'a', status: 'DANCING' as SessionStatus, autostart: true })).toThrow(/CHECK constraint/);
    expect(store.list()).toEqual([]);
  });
});
