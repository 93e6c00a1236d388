import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMigrations } from '@stickerbot/runtime';
import { sha256Hex } from './catalogue.js';
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
    expect(bot.catalogue.top(5, { chat: 'c@s.whatsapp.net' }).map((s) => s.sha256)).toEqual([a]);
    expect(bot.catalogue.pick(12345, { chat: 'c@s.whatsapp.net' })?.sha256).toBe(a);
    expect(bot.catalogue.madeBy('u@s.whatsapp.net')).toBe(2);
  });

  it('links a near duplicate (within 3 bits, same kind) to the catalogued sticker instead of storing it', () => {
    const chat = 'c@s.whatsapp.net';
    const first = bot.catalogue.add({ data: Buffer.from('first'), animated: false, creator: 'u', chat, phash: '00ff00ff00ff00ff' });
    // Three bits off, one in each of three bands: only the untouched band finds it.
    const near = bot.catalogue.add({ data: Buffer.from('near'), animated: false, creator: 'u', chat, phash: '01ff00fe00fe00ff' });
    const animated = bot.catalogue.add({ data: Buffer.from('anim'), animated: true, creator: 'u', chat, phash: '00ff00ff00ff00ff' });
    const far = bot.catalogue.add({ data: Buffer.from('far'), animated: false, creator: 'u', chat, phash: '0f0f0f0f0f0f0f0f' });
    expect(near).toBe(first);
    expect(bot.catalogue.canonical(sha256Hex(Buffer.from('near')))).toBe(first);
    expect([animated, far]).not.toContain(first);
    expect(bot.catalogue.totals()).toMatchObject({ stickers: 3, made: 4 });
    expect(bot.catalogue.get(first)?.timesMade).toBe(2);
    expect(bot.catalogue.nearDuplicate('fe00fe00ff00ff00', false)).toBeUndefined();
  });

  it("keeps a chat's stickers in that chat until made public, and finds them by tag, best match first", () => {
    const group = 'g@g.us';
    const other = 'h@g.us';
    const cat = bot.catalogue.add({ data: Buffer.from('cat'), animated: false, creator: 'u', chat: group, tags: ['😂', 'cat'] });
    const dog = bot.catalogue.add({ data: Buffer.from('dog'), animated: false, creator: 'u', chat: group, tags: ['😂'] });
    expect(bot.catalogue.search(['😂', 'cat'], { chat: group }, 5).map((s) => s.sha256)).toEqual([cat, dog]);
    expect(bot.catalogue.search(['😂'], { chat: other }, 5)).toEqual([]);
    expect(bot.catalogue.pick(1, { chat: other })).toBeUndefined();
    bot.catalogue.setPublic(dog, true);
    expect(bot.catalogue.search(['😂'], { chat: other }, 5).map((s) => s.sha256)).toEqual([dog]);
    expect(bot.catalogue.tag(cat, ['cat', 'funny'])).toBe(1);
    expect(bot.catalogue.tags(cat)).toEqual(['😂', 'cat', 'funny']);
  });

  it('ranks by sends plus reactions, all time or since a cut-off, and takes a removed reaction back', () => {
    const chat = 'c@s.whatsapp.net';
    const a = bot.catalogue.add({ data: Buffer.from('a'), animated: false, creator: 'u', chat });
    const b = bot.catalogue.add({ data: Buffer.from('b'), animated: false, creator: 'u', chat });
    bot.catalogue.recordSent(a, 's', 'A1');
    bot.catalogue.recordSent(a, 's', 'A2');
    bot.catalogue.recordSent(b, 's', 'B1');
    expect(bot.catalogue.top(5, { chat }).map((s) => s.sha256)).toEqual([a, b]);
    expect(bot.catalogue.recordReaction('s', 'B1', 'x@s.whatsapp.net', '😂')).toBe(b);
    expect(bot.catalogue.recordReaction('s', 'B1', 'y@s.whatsapp.net', '🔥')).toBe(b);
    expect(bot.catalogue.recordReaction('s', 'NOT-A-STICKER', 'y@s.whatsapp.net', '🔥')).toBeUndefined();
    expect(bot.catalogue.top(5, { chat }).map((s) => [s.sha256, s.score, s.reactions])).toEqual([[b, 3, 2], [a, 2, 0]]);
    bot.catalogue.recordReaction('s', 'B1', 'y@s.whatsapp.net', '');
    const after = bot.catalogue.top(5, { chat });
    expect(after.find((s) => s.sha256 === b)).toMatchObject({ score: 2, reactions: 1 });
    expect(after.map((s) => s.score)).toEqual([2, 2]);
    expect(bot.catalogue.top(5, { chat }, clock + 1)).toEqual([]);
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
