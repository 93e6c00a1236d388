import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotEvent } from '@stickerbot/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from './sqlite-database.js';
import { createSqliteJournal } from './sqlite-journal.js';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.js';

let dir: string;
let db: SqliteDatabase;
let checkpointer: WalCheckpointer | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-wal-'));
  db = openDatabase(join(dir, 'daemon.sqlite'));
});

afterEach(async () => {
  await checkpointer?.stop();
  checkpointer = undefined;
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const reaction: BotEvent = {
  type: 'reaction:received',
  messageId: 'ABC',
  chat: '491511111111@s.whatsapp.net',
  sender: '491522222222@s.whatsapp.net',
  emoji: '👍',
  timestamp: 1,
};

describe('background WAL checkpointer', () => {
  it('turns commit-time checkpoints off and copies the WAL back from a worker thread', async () => {
    checkpointer = startWalCheckpointer(db, { idleMs: 0, pollMs: 20 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const journal = createSqliteJournal(db);
    const sizeBefore = statSync(join(dir, 'daemon.sqlite')).size;
    for (let i = 0; i < 3000; i += 1) journal.append({ sessionId: 'default', event: reaction, raw: { key: { id: 'PAD' }, message: { conversation: 'x'.repeat(200) } } });
    let result = await checkpointer.nextCheckpoint();
    for (let tries = 0; result.checkpointed < result.log && tries < 50; tries += 1) result = await checkpointer.nextCheckpoint();
    expect(result.log).toBeGreaterThan(0);
    expect(result.checkpointed).toBe(result.log);
    expect(statSync(join(dir, 'daemon.sqlite')).size).toBeGreaterThan(sizeBefore);
    expect(checkpointer.isRunning()).toBe(true);
  });

  it('waits while writes keep coming, and copies the WAL back once they pause', async () => {
    checkpointer = startWalCheckpointer(db, { idleMs: 300, pollMs: 20, maxIntervalMs: 60_000 });
    const journal = createSqliteJournal(db);
    let checkpoints = 0;
    const count = (): void => {
      void checkpointer?.nextCheckpoint().then(() => {
        checkpoints += 1;
        count();
      });
    };
    count();
    for (let i = 0; i < 40; i += 1) {
      journal.append({ sessionId: 'default', event: reaction });
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(checkpoints).toBe(0);
    const result = await checkpointer.nextCheckpoint();
    expect(result.log).toBeGreaterThanOrEqual(40);
    expect(result.checkpointed).toBe(result.log);
    // Nothing new in the WAL: no checkpoint runs again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(checkpoints).toBe(1);
  });

  it('copies the WAL back at once when it holds maxFrames, however busy', async () => {
    checkpointer = startWalCheckpointer(db, { idleMs: 60_000, maxFrames: 50, pollMs: 20, maxIntervalMs: 60_000 });
    const journal = createSqliteJournal(db);
    const pad = { key: { id: 'PAD' }, message: { conversation: 'x'.repeat(200) } };
    const checkpointed = checkpointer.nextCheckpoint();
    for (let i = 0; i < 100; i += 1) journal.append({ sessionId: 'default', event: reaction, raw: pad });
    const result = await checkpointed;
    expect(result.log).toBeGreaterThanOrEqual(50);
  });

  it('gives the connection its automatic checkpoints back when stopped', async () => {
    checkpointer = startWalCheckpointer(db, { idleMs: 0, pollMs: 20 });
    await checkpointer.nextCheckpoint();
    await checkpointer.stop();
    expect(checkpointer.isRunning()).toBe(false);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('falls back to automatic checkpoints when the worker cannot open the database', async () => {
    const errors: unknown[] = [];
    const logger = { error: (...args: unknown[]) => void errors.push(args), warn: () => undefined, debug: () => undefined };
    // The open connection keeps working on an unlinked file; a second connection cannot open it.
    rmSync(join(dir, 'daemon.sqlite'));
    checkpointer = startWalCheckpointer(db, { idleMs: 0, pollMs: 20, logger });
    for (let i = 0; i < 500 && checkpointer.isRunning(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(checkpointer.isRunning()).toBe(false);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(errors).toHaveLength(1);
  });

  it('does nothing for an in-memory database', async () => {
    const memory = openDatabase(':memory:');
    try {
      const inert = startWalCheckpointer(memory);
      expect(inert.isRunning()).toBe(false);
      await inert.stop();
    } finally {
      memory.close();
    }
  });
});
