/**
 * The bot in a group, end to end: the real daemon (its group metadata cache, LID mapping and
 * journal) with the fake WhatsApp socket, and the real worker in-process with its SQLite
 * database. Group members are addressed by LID, with their numbers alongside as WhatsApp
 * sends them, so admin checks and owner checks go through the daemon's LID handling.
 */
import type { JournalEntry } from '@stickerbot/protocol';
import type { FakeWaSession } from '@stickerbot/daemon/test-kit';
import { createStickerEngine, type StickerEngine } from '@stickerbot/sticker';
import { makePng } from '@stickerbot/sticker/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fakeWaStack, kindOf, textOf, waitUntil, type Cleanups, type RunningDaemon } from './support/fake-wa-stack.js';

const BOT = '15550000001@s.whatsapp.net';
const BOT_LID = '90000000000001@lid';
const ALICE = '4915100000001@s.whatsapp.net';
const ALICE_LID = '11111111111111@lid';
const BOB = '4915100000002@s.whatsapp.net';
const BOB_LID = '22222222222222@lid';
const OWNER = '4915100000009@s.whatsapp.net';
const OWNER_LID = '99999999999999@lid';
const GROUP = '120363000000000077@g.us';

/** Baileys' `GroupMetadata`, as the fake serves it (the root package does not depend on Baileys). */
type GroupMetadata = FakeWaSession['groups'] extends Map<string, infer G> ? G : never;

/** Alice admin, Bob and the owner plain members, the bot: a LID-addressed group as Baileys returns it (members by LID, numbers beside). */
function group(): GroupMetadata {
  return {
    id: GROUP,
    subject: 'Sticker swap',
    owner: ALICE_LID,
    ownerPn: ALICE,
    participants: [
      { id: ALICE_LID, phoneNumber: ALICE, admin: 'superadmin' },
      { id: BOB_LID, phoneNumber: BOB },
      { id: OWNER_LID, phoneNumber: OWNER },
      { id: BOT_LID, phoneNumber: BOT },
    ],
  };
}

describe('the bot in a group', { timeout: 120_000 }, () => {
  const cleanups: Cleanups = [];
  let stickers: StickerEngine;
  let png: Buffer;
  const { startDaemon, startWorker } = fakeWaStack(cleanups, () => stickers);

  beforeAll(async () => {
    stickers = createStickerEngine({ concurrency: 1 });
    png = await makePng();
  }, 60_000);
  afterAll(() => stickers.close());
  afterEach(async () => {
    for (const step of cleanups.splice(0).reverse()) await step();
  });

  async function startGroup(): Promise<RunningDaemon & { journaled: JournalEntry[] }> {
    const running = await startDaemon({}, { lid: BOT_LID });
    running.session.groups.set(GROUP, group());
    const journaled: JournalEntry[] = [];
    running.daemon.registry?.on('journaled', (entry) => void journaled.push(entry));
    return { ...running, journaled };
  }

  const env = { STICKERBOT_OWNERS: '4915100000009', STICKERBOT_PROGRESS_DELAY_MS: '60000' };
  const metadataFetches = (running: RunningDaemon) => running.session.calls.filter((call) => call.method === 'groupMetadata').length;

  it("refuses a member's !autosticker on, takes an admin's, then stickers plain images, also after a worker restart", async () => {
    const running = await startGroup();
    const { session } = running;
    const first = startWorker(running, env);

    const refused = session.receiveText({ from: BOB_LID, fromAlt: BOB, chat: GROUP, text: '!autosticker on' });
    const [refusal] = await session.waitForSent(1);
    expect(textOf(refusal)).toBe("Only this group's admins and the bot's owners can switch auto-sticker here.");
    // Replies in a group quote the message they answer.
    expect(refusal?.options?.quoted?.key).toEqual(refused.key);

    session.receiveText({ from: ALICE_LID, fromAlt: ALICE, chat: GROUP, text: '!autosticker on' });
    const accepted = await session.waitForSent(2);
    expect(textOf(accepted[1])).toContain('Auto-sticker is on');
    // The second admin check was answered from the daemon's cache.
    expect(metadataFetches(running)).toBe(1);

    const image = session.receiveImage({ from: BOB_LID, fromAlt: BOB, chat: GROUP, data: png, mimetype: 'image/png' });
    const afterImage = await session.waitForSent(3);
    expect(kindOf(afterImage[2] as (typeof afterImage)[number])).toBe('sticker');
    expect(afterImage[2]?.jid).toBe(GROUP);
    expect(afterImage[2]?.options?.quoted?.key).toEqual(image.key);

    // A new worker process on the same database file: the group's setting is still on.
    await first.stop(5_000);
    startWorker(running, env);
    session.receiveImage({ from: BOB_LID, fromAlt: BOB, chat: GROUP, data: png, mimetype: 'image/png' });
    const afterRestart = await session.waitForSent(4);
    expect(afterRestart.map(kindOf)).toEqual(['text', 'text', 'sticker', 'sticker']);
  });

  it('lets an owner whose messages come from a LID run !sessions, and refuses a LID it cannot name', async () => {
    const running = await startGroup();
    const { session } = running;
    startWorker(running, env);
    // WhatsApp sent no number alongside: the daemon finds it in the mapping Baileys stored.
    await session.current.options.auth.keys.set({ 'lid-mapping': { '4915100000009': '99999999999999', '99999999999999_reverse': '4915100000009' } });

    session.receiveText({ from: OWNER_LID, chat: GROUP, text: '!sessions' });
    const [listing] = await session.waitForSent(1);
    expect(textOf(listing)).toContain('main: CONNECTED');

    session.receiveText({ from: OWNER_LID, fromAlt: OWNER, text: '!sessions' });
    const second = await session.waitForSent(2);
    expect(second[1]?.jid).toBe(OWNER_LID);
    expect(textOf(second[1])).toContain('main: CONNECTED');

    session.receiveText({ from: '55555555555555@lid', chat: GROUP, text: '!sessions' });
    const third = await session.waitForSent(3);
    expect(textOf(third[2])).toBe("Only the bot's owners can use !sessions.");
  });

  it("makes a sticker of another member's image that a member replies to with !s, also of one posted before the bot joined", async () => {
    const running = await startGroup();
    const { session } = running;
    startWorker(running, env);
    const image = session.receiveImage({ from: BOB_LID, fromAlt: BOB, chat: GROUP, data: png, mimetype: 'image/png' });
    const ask = session.receiveText({
      from: ALICE_LID,
      fromAlt: ALICE,
      chat: GROUP,
      text: '!s',
      quotedId: image.key.id ?? '',
      quotedParticipant: BOB_LID,
      quotedMessage: image.message ?? undefined,
    });
    const [sticker] = await session.waitForSent(1);
    expect(kindOf(sticker as NonNullable<typeof sticker>)).toBe('sticker');
    expect(sticker?.options?.quoted?.key).toEqual(ask.key);
    expect(session.calls.filter((call) => call.method === 'downloadMedia').map((call) => call.args[0])).toEqual([image.key.id]);

    // Posted before the bot joined: not in the journal, its media comes from the quote's copy.
    const older = session.undeliveredImage({ from: BOB_LID, chat: GROUP, data: png, mimetype: 'image/png' });
    session.receiveText({ from: ALICE_LID, fromAlt: ALICE, chat: GROUP, text: '!s', quotedId: older.key.id ?? '', quotedParticipant: BOB_LID, quotedMessage: older.message ?? undefined });
    const both = await session.waitForSent(2);
    expect(both.map(kindOf)).toEqual(['sticker', 'sticker']);
  });

  it('follows promotions without asking WhatsApp again and takes the bot being removed without errors', async () => {
    const running = await startGroup();
    const { session } = running;
    const worker = startWorker(running, env);

    session.receiveText({ from: BOB_LID, fromAlt: BOB, chat: GROUP, text: '!autosticker on' });
    await session.waitForSent(1);
    session.participants({ group: GROUP, action: 'promote', participants: [{ id: BOB_LID, phoneNumber: BOB }], author: ALICE_LID, authorPn: ALICE });
    session.receiveText({ from: BOB_LID, fromAlt: BOB, chat: GROUP, text: '!autosticker on' });
    const sent = await session.waitForSent(2);
    expect(textOf(sent[1])).toContain('Auto-sticker is on');
    expect(metadataFetches(running)).toBe(1);

    session.participants({ group: GROUP, action: 'remove', participants: [{ id: BOT_LID, phoneNumber: BOT }], author: ALICE_LID, authorPn: ALICE });
    const removal = running.journaled.at(-1);
    expect(removal?.event).toEqual({
      type: 'group:participants-changed',
      chat: GROUP,
      action: 'remove',
      participants: [BOT],
      author: ALICE,
      subject: 'Sticker swap',
      includesSelf: true,
    });
    await waitUntil(() => worker.db.progress.position() >= (removal?.seq ?? Infinity), 'the worker to handle the removal');
    // The worker carries on; the next metadata ask goes to WhatsApp again.
    session.receiveText({ from: ALICE, text: '!ping' });
    const afterRemoval = await session.waitForSent(3);
    expect(textOf(afterRemoval[2])).toMatch(/^pong/);
    session.groups.delete(GROUP);
    await expect(running.daemon.registry?.groupMetadata({ id: 'g', sessionId: 'main', chat: GROUP })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    expect(metadataFetches(running)).toBe(2);
  });
});
