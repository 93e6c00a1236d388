import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from './sqlite-database.js';
import { createSqliteCommandLog } from './sqlite-command-log.js';

let dir: string;
let file: string;
const open: SqliteDatabase[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-commands-'));
  file = join(dir, 'daemon.sqlite');
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function openLog() {
  const db = openDatabase(file);
  open.push(db);
  return { db, log: createSqliteCommandLog(db) };
}

describe('sqlite command log', () => {
  it('returns the recorded result of a command id after a daemon restart', () => {
    const first = openLog();
    first.log.record({ id: 'cmd-1', op: 'message:send', argsHash: 'h', sessionId: 'default', result: { ok: true, result: { messageId: 'X', timestamp: 5 } }, createdAt: 10 });
    first.log.record({ id: 'cmd-2', op: 'session:list', argsHash: 'h', result: { ok: false, error: { code: 'TIMEOUT', message: 'slow', retryable: true } }, createdAt: 11 });
    first.db.close();

    const { log } = openLog();
    expect(log.get('cmd-1')).toEqual({ id: 'cmd-1', op: 'message:send', argsHash: 'h', sessionId: 'default', result: { ok: true, result: { messageId: 'X', timestamp: 5 } }, createdAt: 10 });
    expect(log.get('cmd-2')).toEqual({ id: 'cmd-2', op: 'session:list', argsHash: 'h', result: { ok: false, error: { code: 'TIMEOUT', message: 'slow', retryable: true } }, createdAt: 11 });
    expect(log.get('cmd-3')).toBeUndefined();
  });

  it('reads a record written before migration 004 as one without an arguments hash', () => {
    const { db, log } = openLog();
    db.prepare("INSERT INTO command_log (id, op, session_id, result, created_at) VALUES ('pre-004', 'message:send', 'default', '{\"ok\":true,\"result\":null}', 7)").run();
    expect(log.get('pre-004')).toEqual({ id: 'pre-004', op: 'message:send', sessionId: 'default', result: { ok: true, result: null }, createdAt: 7 });
  });

  it('keeps binary results as Buffers', () => {
    const { log } = openLog();
    const data = Buffer.from([0, 1, 2, 255, 254]);
    log.record({ id: 'dl', op: 'media:download', argsHash: 'h', sessionId: 'default', result: { ok: true, result: { data, mimetype: 'image/webp' } } });
    const found = log.get('dl')?.result as { ok: true; result: { data: Buffer; mimetype: string } };
    expect(Buffer.isBuffer(found.result.data)).toBe(true);
    expect(found.result.data.equals(data)).toBe(true);
    expect(found.result.mimetype).toBe('image/webp');
  });

  it('replaces the record when the same id is recorded again', () => {
    const { log } = openLog();
    log.record({ id: 'c', op: 'message:send', argsHash: 'h', result: { ok: false, error: { code: 'TIMEOUT', message: 't', retryable: true } }, createdAt: 1 });
    log.record({ id: 'c', op: 'message:send', argsHash: 'h2', result: { ok: true, result: null }, createdAt: 2 });
    expect(log.get('c')).toEqual({ id: 'c', op: 'message:send', argsHash: 'h2', result: { ok: true, result: null }, createdAt: 2 });
  });

  it('prunes only records older than the window', () => {
    const { log } = openLog();
    for (const [id, createdAt] of [['old', 1_000], ['edge', 5_000], ['new', 9_000]] as const) {
      log.record({ id, op: 'message:read', argsHash: 'h', result: { ok: true, result: {} }, createdAt });
    }
    expect(log.prune(5_000, 10_000)).toBe(1);
    expect(log.get('old')).toBeUndefined();
    expect(log.get('edge')).toBeDefined();
    expect(log.get('new')).toBeDefined();
  });
});
