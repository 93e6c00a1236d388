import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMigrations } from '@stickerbot/runtime';
import { BOT_MIGRATIONS_DIR, openBotDatabase, type BotDatabase } from './bot-database.js';

describe('bot database', () => {
  let dir: string;
  let clock: number;
  let bot: BotDatabase;
  const open = () => openBotDatabase(path.join(dir, 'worker.sqlite'), 'bot', () => clock);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'worker-db-'));
    clock = 1_000_000;
    bot = open();
  });
  afterEach(() => {
    bot.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates to the latest numbered migration in WAL mode', () => {
    expect(bot.db.pragma('user_version', { simple: true })).toBe(loadMigrations(BOT_MIGRATIONS_DIR).length);
    expect(bot.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('keeps the position and handled ids across a reopen', () => {
    bot.progress.commit({ position: 7, handled: [{ seq: 7, message: { sessionId: 's', messageId: 'M1', chat: 'c@s.whatsapp.net', kind: 'image', mimetype: 'image/png', size: 10, animated: undefined } }] });
    bot.close();
    bot = open();
    expect(bot.progress.position()).toBe(7);
    expect(bot.progress.processed([{ sessionId: 's', messageId: 'M1' }, { sessionId: 's', messageId: 'M2' }])).toEqual([true, false]);
    expect(bot.progress.remembered('s', 'M1')).toEqual({ kind: 'image', mimetype: 'image/png', size: 10, animated: undefined });
  });

  it('never moves the position backwards', () => {
    bot.progress.commit({ position: 9, handled: [] });
    bot.progress.commit({ position: 4, handled: [] });
    expect(bot.progress.position()).toBe(9);
  });

  it('keeps entries handled beyond the position until the position reaches them', () => {
    bot.progress.commit({ position: 2, handled: [{ seq: 1 }, { seq: 2 }, { seq: 5 }, { seq: 4 }] });
    bot.close();
    bot = open();
    expect(bot.progress.position()).toBe(2);
    expect(bot.progress.handledBeyond()).toEqual([4, 5]);
    bot.progress.commit({ position: 4, handled: [{ seq: 3 }] });
    expect(bot.progress.handledBeyond()).toEqual([5]);
    expect(bot.db.prepare('SELECT count(*) AS n FROM handled_entries').get()).toEqual({ n: 1 });
  });

  it('prunes handled ids by age', () => {
    bot.progress.commit({ position: 1, handled: [{ seq: 1, message: { sessionId: 's', messageId: 'OLD', chat: 'c@s.whatsapp.net', kind: 'text', mimetype: undefined, size: undefined, animated: undefined } }] });
    clock += 10_000;
    bot.progress.commit({ position: 2, handled: [{ seq: 2, message: { sessionId: 's', messageId: 'NEW', chat: 'c@s.whatsapp.net', kind: 'text', mimetype: undefined, size: undefined, animated: undefined } }] });
    expect(bot.prune(5_000).messages).toBe(1);
    expect(bot.progress.processed([{ sessionId: 's', messageId: 'OLD' }, { sessionId: 's', messageId: 'NEW' }])).toEqual([false, true]);
  });

  it('stores a sticker once by content and counts repeats and sends', () => {
    const data = Buffer.from('RIFF fake webp');
    const a = bot.catalogue.add({ data, animated: false, creator: 'u@s.whatsapp.net', chat: 'c@s.whatsapp.net' });
    const b = bot.catalogue.add({ data: new Uint8Array(data), animated: false, creator: 'u@s.whatsapp.net', chat: 'c@s.whatsapp.net' });
    expect(a).toBe(b);
    bot.catalogue.recordSent(a, 's', 'SENT1');
    bot.catalogue.recordSent(a, 's', 'SENT1');
    expect(bot.catalogue.totals()).toEqual({ stickers: 1, made: 2, sent: 1 });
    expect(bot.catalogue.bySentMessage('s', 'SENT1')?.data.equals(data)).toBe(true);
    expect(bot.catalogue.top(5).map((s) => s.sha256)).toEqual([a]);
    expect(bot.catalogue.pick(12345)?.sha256).toBe(a);
    expect(bot.catalogue.madeBy('u@s.whatsapp.net')).toBe(2);
  });

  it('aggregates usage per user, chat and globally', () => {
    bot.stats.record('sticker', 'a@s.whatsapp.net', 'g@g.us', true);
    bot.stats.record('sticker', 'b@s.whatsapp.net', 'g@g.us', false);
    bot.stats.record('help', 'a@s.whatsapp.net', 'a@s.whatsapp.net', true);
    expect(bot.stats.counts()).toEqual([
      { command: 'sticker', uses: 2, failures: 1 },
      { command: 'help', uses: 1, failures: 0 },
    ]);
    expect(bot.stats.counts({ user: 'a@s.whatsapp.net' }).map((c) => c.command)).toEqual(['help', 'sticker']);
    expect(bot.stats.counts({ chat: 'g@g.us' })).toEqual([{ command: 'sticker', uses: 2, failures: 1 }]);
    expect(bot.stats.users()).toBe(2);
  });

  it('remembers chat settings and pack defaults', () => {
    expect(bot.settings.autosticker('s', 'c@s.whatsapp.net')).toBeUndefined();
    bot.settings.setAutosticker('s', 'c@s.whatsapp.net', false);
    expect(bot.settings.autosticker('s', 'c@s.whatsapp.net')).toBe(false);
    bot.settings.setPack('u@s.whatsapp.net', { pack: 'Mine', author: 'Me' });
    expect(bot.settings.pack('u@s.whatsapp.net')).toEqual({ pack: 'Mine', author: 'Me' });
    expect(bot.settings.clearPack('u@s.whatsapp.net')).toBe(true);
    expect(bot.settings.pack('u@s.whatsapp.net')).toBeUndefined();
  });
});
