import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from './index.js';

let dir: string;
const opened: Storage[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-storage-'));
});

afterEach(() => {
  for (const storage of opened.splice(0)) storage.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): Storage {
  const storage = openStorage(join(dir, 'data'));
  opened.push(storage);
  return storage;
}

describe('openStorage', () => {
  it('opens every store over one daemon.sqlite file in the data folder', () => {
    const storage = open();
    expect(storage.file).toBe(join(dir, 'data', 'daemon.sqlite'));
    expect(existsSync(storage.file)).toBe(true);
    expect(storage.isOpen()).toBe(true);
    storage.sessions.save({ id: 'default', status: 'STOPPED', autostart: true });
    storage.journal.append({ sessionId: 'default', event: { type: 'session:changed', session: { id: 'default', status: 'STOPPED', reconnectAttempts: 0, updatedAt: 1 } } });
    const args = { id: 'c1', sessionId: 'default', chat: 'x@s.whatsapp.net', content: { type: 'text' as const, text: 'hi' } };
    storage.outbox.enqueue({ commandId: 'c1', sessionId: 'default', chat: args.chat, args, argsHash: 'h' });
    storage.outbox.complete('c1', { id: 'c1', op: 'message:send', argsHash: 'h', result: { ok: true, result: null } });
    storage.auth.open('default').saveCreds();
    storage.close();
    storage.close();
    expect(storage.isOpen()).toBe(false);

    const again = open();
    expect(again.sessions.get('default')?.status).toBe('STOPPED');
    expect(again.journal.lastSeq()).toBe(1);
    expect(again.commands.get('c1')?.result).toEqual({ ok: true, result: null });
    expect(again.auth.sessionIds()).toEqual(['default']);
  });

  it('checkpoints in the background unless told to checkpoint on commit', () => {
    const background = open();
    expect(background.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    background.close();
    const commit = openStorage(join(dir, 'data'), { checkpoint: 'commit' });
    opened.push(commit);
    expect(commit.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it.each([['after close', []], ['without close', ['--no-close']]])(
    'lets the process exit by itself %s (the checkpointer thread never holds it open)',
    { timeout: 60_000 },
    async (_label, extra) => {
      const fixture = fileURLToPath(new URL('../../test/fixtures/storage-exit.ts', import.meta.url));
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const child = spawn(process.execPath, ['--conditions=@stickerbot/source', '--import', tsx, fixture, join(dir, 'data'), ...extra], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(timer);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const again = open();
      expect(again.journal.lastSeq()).toBe(1);
    },
  );
});
