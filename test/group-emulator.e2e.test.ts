/**
 * The bot in a group with the real Baileys client (issue #15): the wa-sim emulator with a
 * LID-addressed group of three fake phones and the bot, the daemon with real Baileys and
 * the worker as their own processes (scripts/support/latency-stack.ts). Group messages
 * travel as Signal sender-key messages both ways; what each phone sees is what it decrypted.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { makeJpeg } from '@stickerbot/sticker/test-kit';
import type { ContactPhone, SimGroup } from '@stickerbot/wa-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATENCY_BOT, quotedIdOf, startLatencyStack, type LatencyStack, type TimedPhone, type TimedSend } from '../scripts/support/latency-stack.js';
import { until } from '../scripts/support/process-stack.js';
import { readJournalEvents } from './support/journal.js';

const ALICE = '4915200000101';
const BOB = '4915200000102';
const CAROL = '4915200000103';
/** An owner of the bot (STICKERBOT_OWNERS), not in the group, who writes from a LID. */
const OWNER = '4915200000109';

let stack: LatencyStack;
let group: SimGroup;
let alice: TimedPhone;
let bob: TimedPhone;
let carol: TimedPhone;
let jpeg: Buffer;

const inGroup = () => ({ group: group.jid });
const textOf = (exchange: { answer: { text?: string | undefined } }) => exchange.answer.text ?? '';

/** Whether the bot's sticker quoting `sent` reached `phone`, decrypted and verified. */
async function stickerReached(phone: TimedPhone, sent: TimedSend): Promise<Buffer> {
  const { answer } = await phone.answerTo(sent, 'sticker', 60_000);
  expect(answer.group).toBe(group.jid);
  return phone.phone.downloadMedia(answer);
}

/** The daemon's journal entries of `type` for the group, with their payloads. */
const journaled = (type: string) => readJournalEvents(stack.dataDir, type).filter(({ event }) => event.chat === group.jid);

/** The position the worker has acknowledged to the daemon. */
function workerPosition(): number {
  const db = new Database(join(stack.dataDir, 'worker', 'worker.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT MAX(seq) AS seq FROM position').get() as { seq: number | null }).seq ?? 0;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  jpeg = await makeJpeg(640, 480);
  stack = await startLatencyStack();
  alice = stack.phone(ALICE);
  bob = stack.phone(BOB);
  carol = stack.phone(CAROL);
  stack.startWorker({ STICKERBOT_OWNERS: OWNER });
  await stack.workerConnectedAt();
  // Alice created it (super-admin), Bob is an admin, Carol a member, the bot a member.
  group = stack.sim.groups.create({ subject: 'Sticker fans', creator: ALICE, members: [BOB, CAROL, LATENCY_BOT], admins: [BOB] });
}, 180_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

describe('the bot in a group, with the real Baileys client', () => {
  it("turns a member's image with !s into a sticker that every member's phone decrypts, quoting the sender", async () => {
    const sent = await alice.send((p) => p.sendMedia('image', jpeg, { caption: '!s', group: group.jid }));
    const stickers = await Promise.all([alice, bob, carol].map((member) => stickerReached(member, sent)));
    for (const webp of stickers) {
      expect(webp.subarray(0, 4).toString('latin1')).toBe('RIFF');
      expect(webp.subarray(8, 12).toString('latin1')).toBe('WEBP');
    }
    // One sticker, the same bytes for everyone.
    expect(new Set(stickers.map((webp) => webp.toString('base64'))).size).toBe(1);
    await stack.settle();
  }, 120_000);

  it("refuses a member's !autosticker on, takes an admin's, and then a plain image becomes a sticker", async () => {
    const refused = await carol.ask((p) => p.sendText('!autosticker on', inGroup()), 'text');
    expect(textOf(refused)).toContain("Only this group's admins and the bot's owners");
    const accepted = await bob.ask((p) => p.sendText('!autosticker on', inGroup()), 'text');
    expect(textOf(accepted)).not.toContain('Only');
    const photo = await carol.send((p) => p.sendMedia('image', jpeg, inGroup()));
    await stickerReached(carol, photo);
    const off = await bob.ask((p) => p.sendText('!autosticker off', inGroup()), 'text');
    expect(textOf(off)).not.toContain('Only');
    await stack.settle();
  }, 120_000);

  it('makes a sticker of an image another member posted, when a member quotes it with !s', async () => {
    const photo = await alice.send((p) => p.sendMedia('image', jpeg, inGroup()));
    const ask = await carol.send((p) => p.sendText('!s', { group: group.jid, quoted: photo.sent }));
    const webp = await stickerReached(carol, ask);
    expect(webp.subarray(8, 12).toString('latin1')).toBe('WEBP');
    await stack.settle();
  }, 120_000);

  it('passes a member removed and added again on to the worker, and answers her afterwards', async () => {
    const before = journaled('group:participants-changed').length;
    group.remove(ALICE, [CAROL]);
    group.add(ALICE, [CAROL]);
    await until(() => journaled('group:participants-changed').length >= before + 2, 'the daemon to journal both changes', 30_000, 200);
    const changes = journaled('group:participants-changed').slice(before);
    // Members are named by phone number, although the group addresses them by LID.
    expect(changes.map(({ event }) => [event.action, event.participants])).toEqual([
      ['remove', [`${CAROL}@s.whatsapp.net`]],
      ['add', [`${CAROL}@s.whatsapp.net`]],
    ]);
    const last = changes.at(-1)?.seq ?? Number.POSITIVE_INFINITY;
    await until(() => workerPosition() >= last, 'the worker to take both changes', 30_000, 200);
    const pong = await carol.ask((p) => p.sendText('!ping', inGroup()), 'text');
    expect(textOf(pong).toLowerCase()).toContain('pong');
    await stack.settle();
  }, 120_000);

  it('recognises an owner who writes from a LID, and refuses a stranger who does', async () => {
    const owner = stack.phone(OWNER);
    const sessions = await owner.ask((p: ContactPhone) => p.sendText('!sessions', { fromLid: true }), 'text');
    expect(textOf(sessions)).toContain('default');
    const stranger = await carol.ask((p) => p.sendText('!sessions', { fromLid: true }), 'text');
    expect(textOf(stranger)).not.toContain('default');
    await stack.settle();
  }, 120_000);

  it('loses and repeats nothing in the group across a worker restart and a daemon restart', async () => {
    await stack.stopWorker();
    const sends: Array<{ phone: TimedPhone; sent: TimedSend }> = [];
    const ping = async (phone: TimedPhone) => sends.push({ phone, sent: await phone.send((p) => p.sendText('!ping', inGroup())) });
    await ping(alice);
    await ping(bob);
    // Journaled by the daemon (its receipts reached the phones) with no worker running.
    await until(() => sends.every(({ sent }) => stack.sim.receiptsFor(sent.sent.id).length > 0), 'the daemon to take the pings', 30_000);
    await stack.restartDaemon();
    await ping(carol);
    await ping(alice);
    stack.startWorker({ STICKERBOT_OWNERS: OWNER });
    for (const { phone, sent } of sends) await phone.answerTo(sent, 'text', 60_000);
    await stack.settle(2_000);
    // Exactly one answer to each, on every member's phone.
    for (const member of [alice, bob, carol]) {
      for (const { sent } of sends) {
        const answers = member.phone.received.filter((received) => quotedIdOf(received.message) === sent.sent.id && !received.message.reactionMessage);
        expect(answers, `${member.phone.pn}: answers to ${sent.sent.id}`).toHaveLength(1);
      }
    }
  }, 180_000);
});
