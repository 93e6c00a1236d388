import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerCommandArgs } from '@stickerbot/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from './sqlite-database.js';
import { createSqliteCommandLog } from './sqlite-command-log.js';
import { createSqliteOutbox } from './sqlite-outbox.js';

let dir: string;
let file: string;
const open: SqliteDatabase[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-outbox-'));
  file = join(dir, 'daemon.sqlite');
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function openOutbox() {
  const db = openDatabase(file);
  open.push(db);
  const commands = createSqliteCommandLog(db);
  return { db, commands, outbox: createSqliteOutbox(db, commands) };
}

const chat = '491511111111@s.whatsapp.net';

function sendArgs(id: string, data?: Uint8Array<ArrayBuffer>): WorkerCommandArgs<'message:send'> {
  return {
    id,
    sessionId: 'default',
    chat,
    content: data ? { type: 'sticker' as const, data, animated: false } : { type: 'text' as const, text: `hello ${id}` },
  };
}

describe('sqlite outbox', () => {
  it('resumes queued sends after a restart, oldest first per session, with media bytes intact', () => {
    const first = openOutbox();
    const webp = Buffer.from([0x52, 0x49, 0x46, 0x46, 0, 255, 128]);
    const raw = new Uint8Array([1, 2, 3]);
    first.outbox.enqueue({ commandId: 'c2', sessionId: 'default', chat, args: sendArgs('c2', webp), argsHash: 'h-c2', enqueuedAt: 20 });
    first.outbox.enqueue({ commandId: 'c1', sessionId: 'default', chat, args: sendArgs('c1'), argsHash: 'h-c1', enqueuedAt: 10 });
    first.outbox.enqueue({ commandId: 'c3', sessionId: 'default', chat, args: sendArgs('c3', raw), argsHash: 'h-c3', enqueuedAt: 20 });
    first.outbox.enqueue({ commandId: 'o1', sessionId: 'other', chat, args: sendArgs('o1'), argsHash: 'h-o1', enqueuedAt: 5 });
    first.db.close();

    const { outbox } = openOutbox();
    const pending = outbox.pending('default');
    expect(pending.map((item) => item.commandId)).toEqual(['c1', 'c2', 'c3']);
    expect(pending[0]).toEqual({ commandId: 'c1', sessionId: 'default', chat, args: sendArgs('c1'), argsHash: 'h-c1', enqueuedAt: 10, attempts: 0 });
    const dataOf = (args: WorkerCommandArgs<'message:send'> | undefined) => (args?.content.type === 'sticker' ? args.content.data : undefined);
    const sticker = dataOf(pending[1]?.args);
    expect(Buffer.isBuffer(sticker)).toBe(true);
    expect(Buffer.from(sticker ?? []).equals(webp)).toBe(true);
    expect([...(dataOf(pending[2]?.args) ?? [])]).toEqual([1, 2, 3]);
    expect(outbox.find('c2')).toEqual({ op: 'message:send', argsHash: 'h-c2' });
    expect(outbox.pending('other').map((item) => item.commandId)).toEqual(['o1']);
    expect(outbox.size()).toBe(4);
  });

  it('ignores a second enqueue of a command id already queued', () => {
    const { outbox } = openOutbox();
    expect(outbox.enqueue({ commandId: 'c1', sessionId: 'default', chat, args: sendArgs('c1'), argsHash: 'h-c1' })).toBe(true);
    expect(outbox.enqueue({ commandId: 'c1', sessionId: 'default', chat, args: sendArgs('changed'), argsHash: 'h-changed' })).toBe(false);
    expect(outbox.pending('default')[0]?.args).toEqual(sendArgs('c1'));
    expect(outbox.find('c1')).toEqual({ op: 'message:send', argsHash: 'h-c1' });
    expect(outbox.find('c2')).toBeUndefined();
  });

  it('counts attempts across a restart', () => {
    const first = openOutbox();
    first.outbox.enqueue({ commandId: 'c1', sessionId: 'default', chat, args: sendArgs('c1'), argsHash: 'h-c1' });
    first.outbox.markAttempt('c1');
    first.outbox.markAttempt('c1');
    first.db.close();
    expect(openOutbox().outbox.pending('default')[0]?.attempts).toBe(2);
  });

  it('completes an item by removing it and recording its outcome together', () => {
    const { outbox, commands } = openOutbox();
    outbox.enqueue({ commandId: 'c1', sessionId: 'default', chat, args: sendArgs('c1'), argsHash: 'h-c1' });
    outbox.complete('c1', { id: 'c1', op: 'message:send', argsHash: 'h', sessionId: 'default', result: { ok: true, result: { messageId: 'WA1', timestamp: 1 } } });
    expect(outbox.find('c1')).toBeUndefined();
    expect(outbox.size()).toBe(0);
    expect(commands.get('c1')?.result).toEqual({ ok: true, result: { messageId: 'WA1', timestamp: 1 } });
  });

  it('keeps the item queued when recording the outcome fails', () => {
    const { outbox, commands } = openOutbox();
    outbox.enqueue({ commandId: 'c1', sessionId: 'default', chat, args: sendArgs('c1'), argsHash: 'h-c1' });
    const unserialisable = { ok: true as const, result: { n: 1n } };
    expect(() => outbox.complete('c1', { id: 'c1', op: 'message:send', argsHash: 'h', result: unserialisable })).toThrow(/BigInt/);
    expect(outbox.find('c1')).toBeDefined();
    expect(commands.get('c1')).toBeUndefined();
  });

  it('reads a send queued before migration 005 without an arguments hash', () => {
    const { db, outbox } = openOutbox();
    outbox.enqueue({ commandId: 'old', sessionId: 'default', chat, args: sendArgs('old'), argsHash: 'h-old' });
    db.prepare("UPDATE outbox SET args_hash = NULL WHERE command_id = 'old'").run();
    expect(outbox.find('old')).toEqual({ op: 'message:send', argsHash: undefined });
    expect(outbox.pending('default')[0]?.argsHash).toBeUndefined();
  });

  it('removes one item or a whole session without recording outcomes', () => {
    const { outbox, commands } = openOutbox();
    for (const id of ['a', 'b', 'c']) outbox.enqueue({ commandId: id, sessionId: 'default', chat, args: sendArgs(id), argsHash: `h-${id}` });
    outbox.enqueue({ commandId: 'o', sessionId: 'other', chat, args: sendArgs('o'), argsHash: 'h-o' });
    expect(outbox.remove('a')).toBe(true);
    expect(outbox.remove('a')).toBe(false);
    expect(outbox.drop('default')).toBe(2);
    expect(outbox.size()).toBe(1);
    expect(commands.get('b')).toBeUndefined();
  });
});
