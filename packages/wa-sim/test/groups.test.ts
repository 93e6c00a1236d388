import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaileysEventMap, GroupMetadata } from '@whiskeysockets/baileys';
import type { ContactPhone, SimGroup } from '../src/index.js';
import { startPairedHarness, type PairedHarness } from './support/paired-client.js';

const ALICE = '4915200000011';
const BOB = '4915200000012';
const CAROL = '4915200000013';
const WEBP_1X1 = Buffer.from('UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA', 'base64');

describe('a group of three fake phones and the real Baileys client', () => {
  let h: PairedHarness;
  let alice: ContactPhone;
  let bob: ContactPhone;
  let carol: ContactPhone;
  let group: SimGroup;
  const upserted: Array<BaileysEventMap['groups.upsert'][number]> = [];

  beforeAll(async () => {
    h = await startPairedHarness();
    alice = h.sim.phone(ALICE, { name: 'Alice' });
    bob = h.sim.phone(BOB, { name: 'Bob' });
    carol = h.sim.phone(CAROL, { name: 'Carol' });
    h.client.on('groups.upsert', (groups) => upserted.push(...groups));
    group = h.sim.groups.create({ subject: 'Sticker fans', creator: ALICE, members: [BOB, CAROL, h.bot], admins: [BOB] });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('tells the client it was added to a new group (groups.upsert) with subject, creator and members', async () => {
    await expect.poll(() => upserted.find((g) => g.id === group.jid)?.subject, { timeout: 10_000 }).toBe('Sticker fans');
    const created = upserted.find((g) => g.id === group.jid)!;
    expect(created.owner).toBe(alice.lid);
    expect(created.participants).toHaveLength(4);
  });

  it('answers group metadata with LID participants, their phone numbers and admin roles', async () => {
    const meta: GroupMetadata = await h.client.socket.groupMetadata(group.jid);
    expect(meta.subject).toBe('Sticker fans');
    expect(meta.addressingMode).toBe('lid');
    expect(meta.owner).toBe(alice.lid);
    expect(meta.ownerPn).toBe(alice.jid);
    const roles = meta.participants.map((p) => `${String(p.phoneNumber)} ${String(p.admin)}`);
    expect(roles).toEqual([`${alice.jid} superadmin`, `${bob.jid} admin`, `${carol.jid} null`, `${h.bot}@s.whatsapp.net null`]);
    expect(meta.participants.find((p) => p.phoneNumber === bob.jid)?.id).toBe(bob.lid);
  });

  it('lists the group among the participating groups and answers invite info by code', async () => {
    const all = await h.client.socket.groupFetchAllParticipating();
    expect(all[group.jid]?.participants).toHaveLength(4);
    const info = await h.client.socket.groupGetInviteInfo(group.inviteCode);
    expect(info.id).toBe(group.jid);
    // The bot is not an admin: WhatsApp refuses it the invite code.
    await expect(h.client.socket.groupInviteCode(group.jid)).rejects.toThrow();
  });

  it("delivers a member's text with the group as remoteJid and the member's LID as participant", async () => {
    const upsert = h.client.waitForMessage((m) => m.message?.conversation === 'hello group');
    const sent = await alice.sendText('hello group', { group: group.jid });
    const message = await upsert;
    expect(message.key.id).toBe(sent.id);
    expect(message.key.remoteJid).toBe(group.jid);
    expect(message.key.participant).toBe(alice.lid);
    expect(message.key.participantAlt).toBe(alice.jid);
    expect(message.pushName).toBe('Alice');
    // The second message carries only the skmsg: the client kept Alice's sender key.
    const second = h.client.waitForMessage((m) => m.message?.conversation === 'still me');
    await alice.sendText('still me', { group: group.jid });
    expect((await second).key.participant).toBe(alice.lid);
  });

  it('lets every member phone decrypt the text and the sticker the client sends to the group', async () => {
    const sent = await h.client.socket.sendMessage(group.jid, { text: 'hi all, bot here' });
    for (const phone of [alice, bob, carol]) {
      const received = await phone.nextMessage();
      expect(received.id).toBe(sent?.key.id);
      expect(received.group).toBe(group.jid);
      expect(received.encType).toBe('skmsg');
      expect(received.text).toBe('hi all, bot here');
    }
    const sticker = await h.client.socket.sendMessage(group.jid, { sticker: WEBP_1X1 });
    for (const phone of [alice, bob, carol]) {
      const received = await phone.nextMessage();
      expect(received.id).toBe(sticker?.key.id);
      expect(received.mediaType).toBe('sticker');
      expect(phone.downloadMedia(received)).toEqual(WEBP_1X1);
    }
    await expect.poll(() => h.sim.problems, { timeout: 5_000 }).toEqual([]);
  });

  it('carries mentions and quotes both ways: a member quotes the bot, the bot quotes the member', async () => {
    const fromBot = await h.client.socket.sendMessage(group.jid, { text: 'quote me' });
    const original = await bob.nextMessage();
    await alice.nextMessage();
    await carol.nextMessage();
    const upsert = h.client.waitForMessage((m) => m.message?.extendedTextMessage?.text === '@bot look');
    await bob.sendText('@bot look', { group: group.jid, quoted: original, mentions: [h.bot] });
    const quoting = await upsert;
    const context = quoting.message?.extendedTextMessage?.contextInfo;
    expect(context?.stanzaId).toBe(fromBot?.key.id);
    expect(context?.participant).toBe(group.memberJid(h.bot));
    expect(context?.mentionedJid).toEqual([group.memberJid(h.bot)]);

    const reply = await h.client.socket.sendMessage(group.jid, { text: 'seen it', mentions: [bob.lid] }, { quoted: quoting });
    for (const phone of [alice, bob, carol]) {
      const received = await phone.nextMessage();
      expect(received.id).toBe(reply?.key.id);
      const replyContext = received.message.extendedTextMessage?.contextInfo;
      expect(replyContext?.stanzaId).toBe(quoting.key.id);
      expect(replyContext?.participant).toBe(bob.lid);
      expect(replyContext?.mentionedJid).toEqual([bob.lid]);
    }
  });

  it('carries reactions, read receipts, edits and deletes of members in the group', async () => {
    // Listening before the send: the server's delivery receipts follow 150 ms after the phones
    // have the message, which a loaded machine can take to get back to this test.
    let id = '';
    const reactions: string[] = [];
    const delivered: string[] = [];
    const reads: string[] = [];
    const edits: string[] = [];
    const deleted: string[] = [];
    h.client.on('messages.reaction', (batch) => {
      for (const r of batch) if (r.key.id === id) reactions.push(`${r.reaction.key?.participant ?? ''} ${r.reaction.text ?? ''}`);
    });
    h.client.on('message-receipt.update', (batch) => {
      for (const r of batch) {
        if (r.key.id === id && r.receipt.receiptTimestamp) delivered.push(r.receipt.userJid ?? '');
        if (r.key.id === id && r.receipt.readTimestamp) reads.push(r.receipt.userJid ?? '');
      }
    });
    // A receipt that reaches Baileys while its event buffer still holds the sent message's own
    // upsert is folded into that upsert's userReceipt instead of a message-receipt.update.
    h.client.on('messages.upsert', ({ messages }) => {
      for (const m of messages) for (const r of m.key.id === id ? (m.userReceipt ?? []) : []) if (r.receiptTimestamp) delivered.push(r.userJid ?? '');
    });
    h.client.on('messages.update', (batch) => {
      for (const u of batch) {
        const edited = u.update.message?.editedMessage?.message?.conversation;
        if (edited) edits.push(`${u.key.participant ?? ''} ${edited}`);
        if (u.update.message === null) deleted.push(u.key.id ?? '');
      }
    });
    const sent = await h.client.socket.sendMessage(group.jid, { text: 'react here' });
    id = sent?.key.id ?? '';
    for (const phone of [alice, bob, carol]) await phone.nextMessage();
    await carol.react(id, '🔥', { group: group.jid });
    // A phone reads after the server's delivery receipt; Baileys' event buffer would merge them otherwise.
    await expect.poll(() => delivered.includes(carol.lid), { timeout: 10_000 }).toBe(true);
    carol.read([id], { group: group.jid });
    await expect.poll(() => reactions, { timeout: 10_000 }).toEqual([`${carol.lid} 🔥`]);
    await expect.poll(() => reads, { timeout: 10_000 }).toEqual([carol.lid]);

    const upsert = h.client.waitForMessage((m) => m.message?.conversation === 'tpyo');
    const typo = await carol.sendText('tpyo', { group: group.jid });
    await upsert;
    await carol.edit(typo.id, 'typo', { group: group.jid });
    await expect.poll(() => edits, { timeout: 10_000 }).toEqual([`${carol.lid} typo`]);
    await carol.revoke(typo.id, { group: group.jid });
    await expect.poll(() => deleted, { timeout: 10_000 }).toEqual([typo.id]);
  });

  it('reports add, promote, demote and remove as group-participants.update, and a subject change as groups.update', async () => {
    const dave = h.sim.phone('4915200000014', { name: 'Dave' });
    const participantEvents: Array<BaileysEventMap['group-participants.update']> = [];
    const groupUpdates: Array<BaileysEventMap['groups.update'][number]> = [];
    h.client.on('group-participants.update', (update) => participantEvents.push(update));
    h.client.on('groups.update', (updates) => groupUpdates.push(...updates));

    group.add(ALICE, [dave.pn]);
    group.promote(BOB, [CAROL]);
    group.demote(ALICE, [CAROL]);
    group.remove(BOB, [dave.pn]);
    group.setSubject(CAROL, 'Sticker friends');

    await expect
      .poll(() => participantEvents.map((e) => `${e.action} ${e.participants.map((p) => p.phoneNumber).join()} by ${e.author}`), { timeout: 10_000 })
      .toEqual([`add ${dave.jid} by ${alice.lid}`, `promote ${carol.jid} by ${bob.lid}`, `demote ${carol.jid} by ${alice.lid}`, `remove ${dave.jid} by ${bob.lid}`]);
    await expect.poll(() => groupUpdates.find((u) => u.subject)?.subject, { timeout: 10_000 }).toBe('Sticker friends');
    expect(groupUpdates.find((u) => u.subject)?.author).toBe(carol.lid);
    const meta = await h.client.socket.groupMetadata(group.jid);
    expect(meta.subject).toBe('Sticker friends');
    expect(meta.participants.map((p) => p.phoneNumber)).not.toContain(dave.jid);
  });

  it('lets a member added later read the next bot message (the client distributes its sender key to it)', async () => {
    const erin = h.sim.phone('4915200000015', { name: 'Erin' });
    const participantEvent = new Promise<void>((resolve) =>
      h.client.on('group-participants.update', (u) => u.action === 'add' && u.participants.some((p) => p.phoneNumber === erin.jid) && resolve()),
    );
    group.add(ALICE, [erin.pn]);
    await participantEvent;
    const sent = await h.client.socket.sendMessage(group.jid, { text: 'welcome erin' });
    const received = await erin.nextMessage();
    expect(received.id).toBe(sent?.key.id);
    expect(received.text).toBe('welcome erin');
    for (const phone of [alice, bob, carol]) expect((await phone.nextMessage()).text).toBe('welcome erin');
  });

  it('recovers a group message whose sender key the client never got, through its retry receipt', async () => {
    // Dave was removed: the phones rotated their sender keys, so Carol's next message distributes a new one.
    h.sim.faults.withholdSenderKey(CAROL);
    const upsert = h.client.waitForMessage((m) => m.message?.conversation === 'did you get my key?');
    const sent = await carol.sendText('did you get my key?', { group: group.jid });
    const message = await upsert;
    expect(message.key.id).toBe(sent.id);
    expect(message.key.participant).toBe(carol.lid);
    expect(h.sim.receiptsFor(sent.id)).toContain('retry');
  });

  it("recovers a bot message a member's phone could not decrypt: the phone's retry receipt makes the client resend", async () => {
    h.sim.faults.loseSenderKey(BOB);
    const group2 = h.sim.groups.create({ subject: 'Second', creator: BOB, members: [ALICE, h.bot] });
    await h.client.socket.groupMetadata(group2.jid);
    const sent = await h.client.socket.sendMessage(group2.jid, { text: 'second group hello' });
    const atBob = await bob.nextMessage();
    expect(atBob.id).toBe(sent?.key.id);
    expect(atBob.text).toBe('second group hello');
    expect(h.sim.transcript()).toMatch(new RegExp(`S→C <receipt from=${group2.jid} participant=${bob.lid} id=${sent?.key.id} type=retry`));
    // Alice got it at once and does not see the resend twice.
    expect((await alice.nextMessage()).id).toBe(sent?.key.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alice.received.filter((m) => m.id === sent?.key.id)).toHaveLength(1);
  });

  it('tells the client it was removed, and then refuses it the metadata', async () => {
    const removed = new Promise<BaileysEventMap['group-participants.update']>((resolve) =>
      h.client.on('group-participants.update', (u) => {
        if (u.action === 'remove' && u.participants.some((p) => p.phoneNumber === `${h.bot}@s.whatsapp.net`)) resolve(u);
      }),
    );
    group.remove(ALICE, [h.bot]);
    expect((await removed).author).toBe(alice.lid);
    await expect(h.client.socket.groupMetadata(group.jid)).rejects.toThrow();
  });

  it('leaves no unhandled node and no protocol problem behind', () => {
    expect(h.sim.unhandled.map((u) => u.key)).toEqual([]);
    expect(h.sim.problems).toEqual([]);
  });
});
