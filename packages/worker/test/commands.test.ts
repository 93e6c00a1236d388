import { StickerbotError, type WorkerCommandArgs } from '@stickerbot/protocol';
import { readStickerMetadata, type StickerEngine } from '@stickerbot/sticker';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corruptJpeg, makeMp4, makePng } from '@stickerbot/sticker/test-kit';
import { createStickerPool } from '../src/media/sticker-pool.js';
import { ALICE, BOB, captureLog, engineEnvironment, GROUP, OWNER, startRouterHarness, type RouterHarness } from '../src/test-kit/index.js';

function stickerBytes(args: WorkerCommandArgs<'message:send'> | undefined): Buffer {
  if (args?.content.type !== 'sticker') throw new Error('not a sticker send');
  return Buffer.from(args.content.data);
}

async function expectSticker(data: Buffer, animated: boolean): Promise<void> {
  const meta = await sharp(data, { animated: true }).metadata();
  expect(meta.format).toBe('webp');
  expect(meta.width).toBe(512);
  expect(meta.pageHeight ?? meta.height).toBe(512);
  expect((meta.pages ?? 1) > 1).toBe(animated);
}

describe('chat commands', { timeout: 60_000 }, () => {
  let stickers: StickerEngine;
  let png: Buffer;
  let mp4: Buffer;
  beforeAll(async () => {
    // The worker's own engine: conversions in a child process.
    stickers = createStickerPool({
      size: 1,
      jobTimeoutMs: 60_000,
      jobMemoryBytes: 1024 * 2 ** 20,
      engine: { maxInputBytes: 64 * 2 ** 20, ...engineEnvironment() },
      log: captureLog().log,
    });
    [png, mp4] = await Promise.all([makePng(), makeMp4(1)]);
  }, 60_000);
  afterAll(() => stickers.close());

  async function sendImage(h: RouterHarness, text: string | undefined, overrides: Record<string, unknown> = {}) {
    const id = `IMG${h.seq + 1}X${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
    h.bridge.media.set(id, { data: png, mimetype: 'image/png' });
    return h.send({ id, kind: 'image', text, media: { mimetype: 'image/png', size: png.byteLength, width: 320, height: 200 }, ...overrides });
  }

  it('makes a sticker from an image captioned !s, with the default pack and no reactions when it is quick', async () => {
    // A delay no conversion here reaches: the quick path, whatever the machine's load.
    await using h = startRouterHarness({ STICKERBOT_PACK: 'Bot Pack', STICKERBOT_AUTHOR: 'Bot', STICKERBOT_PROGRESS_DELAY_MS: '60000' }, stickers);
    await sendImage(h, '!s circle');
    expect(h.bridge.reactions()).toEqual([]);
    const data = stickerBytes(h.bridge.sentOfType('sticker')[0]);
    await expectSticker(data, false);
    expect(readStickerMetadata(data)).toMatchObject({ packName: 'Bot Pack', publisher: 'Bot' });
    expect(h.db.catalogue.totals()).toMatchObject({ stickers: 1, made: 1, sent: 1 });
  });

  it('makes a sticker from an image it is replying to', async () => {
    await using h = startRouterHarness({}, stickers);
    const image = await sendImage(h, undefined, { isGroup: true, chat: GROUP });
    expect(h.bridge.sentOfType('sticker')).toHaveLength(0);
    await h.send({ text: '!sticker crop Cats | Alice', isGroup: true, chat: GROUP, quotedId: image.id, quotedKind: 'image' });
    const data = stickerBytes(h.bridge.sentOfType('sticker')[0]);
    expect(readStickerMetadata(data)).toMatchObject({ packName: 'Cats', publisher: 'Alice' });
    expect(h.bridge.sent.filter((c) => c.name === 'media:download').map((c) => (c.args as { messageId: string }).messageId)).toEqual([image.id]);
  });

  it('turns a video into an animated sticker, with ⏳ then ✅ for work past the progress delay', async () => {
    await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '0' }, stickers);
    h.bridge.media.set('VID1', { data: mp4, mimetype: 'video/mp4' });
    await h.send({ id: 'VID1', kind: 'video', text: '!s', media: { mimetype: 'video/mp4', size: mp4.byteLength, durationS: 1 } });
    expect(h.bridge.reactions()).toEqual(['⏳', '✅']);
    await expectSticker(stickerBytes(h.bridge.sentOfType('sticker')[0]), true);
  });

  it('auto-stickers media in private chats by default, not in groups, and obeys !autosticker', async () => {
    await using h = startRouterHarness({}, stickers);
    await sendImage(h, 'look at this');
    expect(h.bridge.sentOfType('sticker')).toHaveLength(1);
    await sendImage(h, undefined, { isGroup: true, chat: GROUP, sender: ALICE });
    expect(h.bridge.sentOfType('sticker')).toHaveLength(1);
    await h.send({ text: '!autosticker off' });
    await sendImage(h, undefined);
    expect(h.bridge.sentOfType('sticker')).toHaveLength(1);
    expect(h.bridge.texts().at(-1)).toContain('Auto-sticker is off');
  });

  it('lets only group admins or owners switch auto-sticker in a group', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!autosticker on', isGroup: true, chat: GROUP });
    expect(h.bridge.texts().at(-1)).toBe("Only this group's admins and the bot's owners can switch auto-sticker here.");
    expect(h.db.settings.autosticker('default', GROUP)).toBeUndefined();
    h.bridge.admins.set(GROUP, [ALICE]);
    await h.send({ text: '!autosticker on', isGroup: true, chat: GROUP });
    expect(h.db.settings.autosticker('default', GROUP)).toBe(true);
    expect(h.bridge.texts().at(-1)).toContain('Auto-sticker is on');
    await h.send({ text: '!autosticker off', isGroup: true, chat: GROUP, sender: OWNER });
    expect(h.db.settings.autosticker('default', GROUP)).toBe(false);
  });

  it('recognises a group admin the metadata lists by LID when their message names the same LID', async () => {
    await using h = startRouterHarness({}, stickers);
    // The daemon knew Bob's number when it fetched the group, not when his message came.
    h.bridge.admins.set(GROUP, [{ jid: BOB, lid: '22222222222222@lid' }]);
    await h.send({ text: '!autosticker on', isGroup: true, chat: GROUP, sender: '22222222222222@lid', senderLid: '22222222222222@lid' });
    expect(h.db.settings.autosticker('default', GROUP)).toBe(true);
    // Another LID is no admin.
    await h.send({ text: '!autosticker off', isGroup: true, chat: GROUP, sender: '33333333333333@lid', senderLid: '33333333333333@lid' });
    expect(h.db.settings.autosticker('default', GROUP)).toBe(true);
    expect(h.bridge.texts().at(-1)).toContain('Only this group');
  });

  it("makes a sticker from another member's image in a group, quoting the member who asked", async () => {
    await using h = startRouterHarness({}, stickers);
    const image = await sendImage(h, undefined, { isGroup: true, chat: GROUP, sender: BOB });
    const ask = await h.send({ text: '!s', isGroup: true, chat: GROUP, sender: ALICE, quotedId: image.id, quotedKind: 'image' });
    const [sticker] = h.bridge.sentOfType('sticker');
    await expectSticker(stickerBytes(sticker), false);
    expect(sticker).toMatchObject({ chat: GROUP, quotedId: ask.id });
    // Named with the quoting message, so the daemon can fall back to the quote's copy of the image.
    expect(h.bridge.sent.filter((c) => c.name === 'media:download').map((c) => c.args)).toEqual([
      expect.objectContaining({ messageId: image.id, quotedBy: ask.id }),
    ]);
    expect(h.db.catalogue.totals()).toMatchObject({ stickers: 1 });
  });

  it('refuses media over the size cap before downloading it', async () => {
    await using h = startRouterHarness({ STICKERBOT_MAX_MEDIA_MB: '1' }, stickers);
    await h.send({ id: 'BIG1', kind: 'video', text: '!s', media: { mimetype: 'video/mp4', size: 5 * 1024 * 1024 } });
    expect(h.bridge.sent.some((c) => c.name === 'media:download')).toBe(false);
    expect(h.bridge.texts()).toEqual(['That file is too large (the limit is 1 MB).']);
    expect(h.bridge.reactions()).toEqual([]);
  });

  it('refuses a video declared longer than ten minutes before downloading it', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ id: 'LONG1', kind: 'video', text: '!s', media: { mimetype: 'video/mp4', size: 1000, durationS: 3600 } });
    expect(h.bridge.sent.some((c) => c.name === 'media:download')).toBe(false);
    expect(h.bridge.texts()[0]).toMatch(/^That video is too long/);
  });

  it('answers corrupt media in plain words, after ⏳ and with ❌ when the work ran past the progress delay', async () => {
    await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '0' }, stickers);
    const bad = corruptJpeg();
    h.bridge.media.set('BAD1', { data: bad, mimetype: 'image/jpeg' });
    await h.send({ id: 'BAD1', kind: 'image', text: '!s', media: { mimetype: 'image/jpeg', size: bad.byteLength } });
    expect(h.bridge.reactions()).toEqual(['⏳', '❌']);
    expect(h.bridge.texts()[0]).toMatch(/damaged|can't make a sticker/);
  });

  it('says what to do when !sticker has no media', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!s' });
    expect(h.bridge.texts()[0]).toBe('Send an image, GIF or video with !sticker as its caption, or reply to one with !sticker.');
    expect(h.bridge.reactions()).toEqual([]);
  });

  it('turns one of its own stickers back into an image without downloading it', async () => {
    await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '60000' }, stickers);
    await sendImage(h, '!s');
    const sentId = 'BOT1'; // the fake bridge's id of the sticker send (quick: no ⏳ before it)
    await h.send({ text: '!toimg', quotedId: sentId, quotedKind: 'sticker' });
    const image = h.bridge.sentOfType('image')[0];
    expect(image?.content.type === 'image' && image.content.mimetype).toBe('image/png');
    expect(h.bridge.sent.filter((c) => c.name === 'media:download')).toHaveLength(1);
  });

  it('re-tags a received sticker with !take, and refuses non-stickers', async () => {
    await using h = startRouterHarness({}, stickers);
    const made = await stickers.toSticker(png, { pack: 'Theirs', author: 'Bob' });
    h.bridge.media.set('STK1', { data: made.data, mimetype: 'image/webp' });
    await h.send({ id: 'STK1', kind: 'sticker', media: { mimetype: 'image/webp', size: made.bytes } });
    expect(h.bridge.sent).toHaveLength(0);
    await h.send({ text: '!take Mine | Alice', quotedId: 'STK1', quotedKind: 'sticker' });
    expect(readStickerMetadata(stickerBytes(h.bridge.sentOfType('sticker')[0]))).toMatchObject({ packName: 'Mine', publisher: 'Alice' });
    await h.send({ text: '!take', quotedId: 'STK1', quotedKind: 'image' });
    expect(h.bridge.texts().at(-1)).toBe('Reply to a sticker with !take pack | author.');
  });

  it('remembers my pack for later stickers and can reset it', async () => {
    await using h = startRouterHarness({ STICKERBOT_PACK: 'Default', STICKERBOT_AUTHOR: 'Bot' }, stickers);
    await h.send({ text: '!pack "Cat Pack" | Alice' });
    expect(h.bridge.texts().at(-1)).toBe('Done: your stickers now get pack "Cat Pack" by "Alice".');
    await sendImage(h, '!s');
    expect(readStickerMetadata(stickerBytes(h.bridge.sentOfType('sticker')[0]))).toMatchObject({ packName: 'Cat Pack', publisher: 'Alice' });
    await h.send({ text: '!pack reset' });
    expect(h.bridge.texts().at(-1)).toBe('Back to the default pack "Default" by "Bot".');
  });

  it('renders text as a sticker', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!text good morning' });
    await expectSticker(stickerBytes(h.bridge.sentOfType('sticker')[0]), false);
    await h.send({ text: '!text' });
    expect(h.bridge.texts().at(-1)).toBe('What should it say? !text your words');
  });

  it('sends random and top stickers from the catalogue', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!random' });
    expect(h.bridge.texts().at(-1)).toContain("I haven't made any stickers here yet");
    await sendImage(h, '!s');
    await h.send({ text: '!random' });
    await h.send({ text: '!top 2' });
    const sent = h.bridge.sentOfType('sticker').map(stickerBytes);
    expect(sent).toHaveLength(3);
    expect(sent[1]?.equals(sent[0] ?? Buffer.alloc(0))).toBe(true);
    expect(h.bridge.texts().at(-1)).toBe('Top 1 sticker:\n1. sent 2 times');
  });

  it('answers !ping with the round trip and both uptimes', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!ping' });
    expect(h.bridge.texts()[0]).toMatch(/^pong 🏓 bridge round trip \d+ ms\ndaemon up 1h 00m, worker up 1m 00s$/);
  });

  it('reports a download the daemon refuses as too large', async () => {
    await using h = startRouterHarness({}, stickers);
    h.bridge.failing['media:download'] = new StickerbotError('MEDIA_TOO_LARGE');
    await h.send({ text: '!s', quotedId: 'UNSEEN1', quotedKind: 'video' });
    expect(h.bridge.texts()).toEqual(['That file is too large (the limit is 2 MB).']);
  });

  describe('the catalogue', () => {
    it('writes the emojis of !s 😂🔥 into the EXIF and finds the sticker by them in the same chat only', async () => {
      await using h = startRouterHarness({}, stickers);
      await sendImage(h, '!s circle 😂🔥 Cats | Alice');
      const made = h.bridge.sentOfType('sticker')[0];
      expect(readStickerMetadata(stickerBytes(made))).toMatchObject({ packName: 'Cats', publisher: 'Alice', emojis: ['😂', '🔥'] });
      await h.send({ text: '!find 🔥' });
      expect(stickerBytes(h.bridge.sentOfType('sticker')[1]).equals(stickerBytes(made))).toBe(true);
      // Bob's private chat does not see Alice's sticker until she makes it public.
      await h.send({ text: '!find 😂', chat: BOB, sender: BOB });
      expect(h.bridge.texts().at(-1)).toBe('No sticker here is tagged 😂. Tag one by replying to it with !tag 😂.');
      await h.send({ text: '!public', chat: BOB, sender: BOB, quotedId: h.sentId(made), quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe("Only the sticker's maker and the bot's owners can change who sees it.");
      await h.send({ text: '!public', quotedId: h.sentId(made), quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('That sticker is public now: every chat can find it.');
      await h.send({ text: '!find 😂', chat: BOB, sender: BOB });
      expect(h.bridge.sentOfType('sticker').at(-1)?.chat).toBe(BOB);
      expect(h.bridge.sentOfType('sticker')).toHaveLength(3);
    });

    it("keeps a group's stickers in that group", async () => {
      await using h = startRouterHarness({}, stickers);
      await sendImage(h, '!s 😂', { isGroup: true, chat: GROUP });
      await h.send({ text: '!find 😂', isGroup: true, chat: GROUP });
      await h.send({ text: '!random', isGroup: true, chat: '120363000000000002@g.us' });
      await h.send({ text: '!find 😂', isGroup: true, chat: '120363000000000002@g.us' });
      expect(h.bridge.sentOfType('sticker').map((send) => send.chat)).toEqual([GROUP, GROUP]);
      expect(h.bridge.texts().slice(-2)).toEqual(["I haven't made any stickers here yet. Make the first one with !sticker!", expect.stringContaining('No sticker here is tagged 😂')]);
    });

    it('adds !tag tags to a replied-to sticker, its own or one it never saw, and !find ranks the best match first', async () => {
      await using h = startRouterHarness({}, stickers);
      await sendImage(h, '!s 😂');
      const mine = h.bridge.sentOfType('sticker')[0];
      await h.send({ text: '!tag cat 😂', quotedId: h.sentId(mine), quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('Tagged: 😂 cat');
      // Someone else's sticker: downloaded once, catalogued here.
      const theirs = await stickers.fromText('meow');
      h.bridge.media.set('STK9', { data: theirs.data, mimetype: 'image/webp' });
      await h.send({ id: 'STK9', kind: 'sticker', media: { mimetype: 'image/webp', size: theirs.bytes } });
      await h.send({ text: '!tag cat', quotedId: 'STK9', quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('Tagged: cat');
      await h.send({ text: '!find cat 😂' });
      const found = h.bridge.sentOfType('sticker').slice(1).map(stickerBytes);
      expect(found).toHaveLength(2);
      expect(found[0]?.equals(stickerBytes(mine))).toBe(true);
      expect(found[1]?.equals(theirs.data)).toBe(true);
      await h.send({ text: '!tag', quotedId: 'NOPE', quotedKind: 'image' });
      expect(h.bridge.texts().at(-1)).toBe('Reply to a sticker with !tag 😂 cat.');
    });

    it('catalogues the same picture made twice (different pack, different bytes) once, through the converter\'s fingerprint', async () => {
      await using h = startRouterHarness({}, stickers);
      await sendImage(h, '!s Cats | Alice');
      await sendImage(h, '!s Dogs | Bob');
      const [a, b] = h.bridge.sentOfType('sticker').map(stickerBytes);
      expect(a?.equals(b ?? Buffer.alloc(0))).toBe(false);
      expect(h.db.catalogue.totals()).toMatchObject({ stickers: 1, made: 2, sent: 2 });
      await h.send({ text: '!top 1' });
      expect(h.bridge.texts().at(-1)).toBe('Top 1 sticker:\n1. sent 2 times');
    });

    it('counts reactions to its stickers in !top and !top week, and !take tags with emojis', async () => {
      await using h = startRouterHarness({}, stickers);
      await sendImage(h, '!s');
      const text = await stickers.fromText('hi');
      h.bridge.media.set('STK2', { data: text.data, mimetype: 'image/webp' });
      await h.send({ id: 'STK2', kind: 'sticker', media: { mimetype: 'image/webp', size: text.bytes } });
      await h.send({ text: '!take Mine | Alice 🎉', quotedId: 'STK2', quotedKind: 'sticker' });
      const [image, taken] = h.bridge.sentOfType('sticker');
      expect(readStickerMetadata(stickerBytes(taken))).toMatchObject({ packName: 'Mine', emojis: ['🎉'] });
      await h.react(h.sentId(taken), '❤️');
      await h.react(h.sentId(taken), '😂', { sender: OWNER });
      await h.send({ text: '!top 2' });
      expect(h.bridge.texts().at(-1)).toBe('Top 2 stickers:\n1. sent 1 time, 2 reactions\n2. sent 1 time');
      const sentByTop = h.bridge.sentOfType('sticker').slice(-2).map(stickerBytes);
      expect(sentByTop[0]?.equals(stickerBytes(taken))).toBe(true);
      expect(sentByTop[1]?.equals(stickerBytes(image))).toBe(true);
      await h.send({ text: '!find 🎉' });
      expect(h.bridge.sentOfType('sticker')).toHaveLength(5);
      // Eight days on, nothing happened this week.
      h.clock.now += 8 * 24 * 3600 * 1000;
      await h.send({ text: '!top week' });
      expect(h.bridge.texts().at(-1)).toBe('No sticker was sent or reacted to here this week.');
      await h.react(h.sentId(image), '🔥');
      await h.send({ text: '!top week 1' });
      expect(h.bridge.texts().at(-1)).toBe('Top 1 sticker this week:\n1. sent 0 times, 1 reaction');
    });
  
    it('collects stickers into a pack with WhatsApp\'s rules and shows them in order', async () => {
      await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '60000' }, stickers);
      // Many commands from one sender: each one 20 s later, clear of the rate limit.
      h.clock.now += 20_000;
      await h.send({ text: '!pack add Cats', quotedId: 'X', quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('There is no pack "Cats" here. Make it with !pack new Cats.');
      h.clock.now += 20_000;
      await h.send({ text: '!pack new Cats' });
      expect(h.bridge.texts().at(-1)).toMatch(/^Pack "Cats" is ready/);
      h.clock.now += 20_000;
      await h.send({ text: '!pack new cats' });
      expect(h.bridge.texts().at(-1)).toBe('This chat has a pack "cats" already. See it with !pack show cats.');
      await sendImage(h, '!s');
      h.clock.now += 20_000;
      await h.send({ text: '!text two' });
      const [first, second] = h.bridge.sentOfType('sticker');
      h.clock.now += 20_000;
      await h.send({ text: '!pack add Cats', quotedId: h.sentId(first), quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('Added to "Cats" (1 sticker). A WhatsApp pack needs at least 3: add 2 more.');
      // Without a name: the pack this sender made last.
      h.clock.now += 20_000;
      await h.send({ text: '!pack add', quotedId: h.sentId(second), quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('Added to "Cats" (2 stickers). A WhatsApp pack needs at least 3: add 1 more.');
      h.clock.now += 20_000;
      await h.send({ text: '!pack add cats', quotedId: h.sentId(first), quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('That sticker is in "Cats" already.');
      h.bridge.media.set('VID7', { data: mp4, mimetype: 'video/mp4' });
      h.clock.now += 20_000;
      await h.send({ id: 'VID7', kind: 'video', text: '!s', media: { mimetype: 'video/mp4', size: mp4.byteLength, durationS: 1 } });
      const animated = h.bridge.sentOfType('sticker').at(-1);
      h.clock.now += 20_000;
      await h.send({ text: '!pack add Cats', quotedId: h.sentId(animated), quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('"Cats" holds static stickers, and WhatsApp packs don\'t mix static and animated ones.');
      const before = h.bridge.sentOfType('sticker').length;
      h.clock.now += 20_000;
      await h.send({ text: '!pack show "cats"' });
      expect(h.bridge.texts().at(-1)).toBe('"Cats": 2 static stickers. A WhatsApp pack needs at least 3: add 1 more.');
      const shown = h.bridge.sentOfType('sticker').slice(before).map(stickerBytes);
      expect(shown.map((data) => data.equals(stickerBytes(first)) || data.equals(stickerBytes(second)))).toEqual([true, true]);
      expect(shown[0]?.equals(stickerBytes(first))).toBe(true);
      h.clock.now += 20_000;
      await h.send({ text: '!pack list' });
      expect(h.bridge.texts().at(-1)).toBe('Packs here:\n• Cats (2 stickers)');
      // Another chat has no such pack.
      h.clock.now += 20_000;
      await h.send({ text: '!pack show Cats', chat: BOB, sender: BOB });
      expect(h.bridge.texts().at(-1)).toBe('There is no pack "Cats" here. Make it with !pack new Cats.');
    });

    it('refuses a 31st sticker in a pack', async () => {
      await using h = startRouterHarness({}, stickers);
      await h.send({ text: '!pack new Full' });
      const pack = h.db.packs.find(ALICE, 'Full');
      for (let i = 0; i < 30; i++) {
        const sha = h.db.catalogue.add({ data: Buffer.from(`sticker ${i}`), animated: false, creator: ALICE, chat: ALICE });
        h.db.packs.add(pack?.id ?? -1, sha);
      }
      await h.send({ text: '!pack add Full', quotedId: 'ANY', quotedKind: 'sticker' });
      expect(h.bridge.texts().at(-1)).toBe('"Full" is full: a WhatsApp pack holds at most 30 stickers.');
      expect(h.bridge.sent.some((c) => c.name === 'media:download')).toBe(false);
    });

    it('still sets the default pack name, also one starting with a keyword when quoted', async () => {
      await using h = startRouterHarness({}, stickers);
      await h.send({ text: '!pack "new wave" | Me' });
      expect(h.db.settings.pack(ALICE)).toEqual({ pack: 'new wave', author: 'Me' });
    });
  });
});
