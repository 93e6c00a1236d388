import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadMediaMessage, type BaileysEventMap } from '@whiskeysockets/baileys';
import type { ContactPhone } from '../src/index.js';
import { startPairedHarness, type PairedHarness } from './support/paired-client.js';

const FRANK = '4915200000031';
const GRACE = '4915200000032';
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('group changes the real Baileys client makes, phone-number groups and group media', () => {
  let h: PairedHarness;
  let frank: ContactPhone;
  let grace: ContactPhone;
  const participantEvents: Array<BaileysEventMap['group-participants.update']> = [];

  beforeAll(async () => {
    h = await startPairedHarness();
    frank = h.sim.phone(FRANK, { name: 'Frank' });
    grace = h.sim.phone(GRACE, { name: 'Grace' });
    h.client.on('group-participants.update', (u) => participantEvents.push(u));
  });

  afterAll(async () => {
    await h?.close();
  });

  it('creates a group for the client (groupCreate), which it then administers: add, promote, subject', async () => {
    const meta = await h.client.socket.groupCreate('Bot made this', [frank.jid]);
    expect(meta.subject).toBe('Bot made this');
    const group = h.sim.groups.get(meta.id);
    expect(group.roleOf(h.bot)).toBe('superadmin');
    expect(group.members).toEqual([h.bot, FRANK]);

    const added = await h.client.socket.groupParticipantsUpdate(meta.id, [grace.jid], 'add');
    expect(added.map((r) => r.status)).toEqual(['200']);
    await h.client.socket.groupParticipantsUpdate(meta.id, [grace.jid], 'promote');
    expect(group.roleOf(GRACE)).toBe('admin');
    await h.client.socket.groupUpdateSubject(meta.id, 'Renamed by the bot');
    expect(group.subject).toBe('Renamed by the bot');
    await expect
      .poll(() => participantEvents.filter((e) => e.id === meta.id).map((e) => e.action), { timeout: 10_000 })
      .toEqual(['add', 'promote']);
  });

  it('refuses participant changes by a member who is not an admin', async () => {
    const group = h.sim.groups.create({ subject: 'Frank rules', creator: FRANK, members: [GRACE, h.bot] });
    await expect(h.client.socket.groupParticipantsUpdate(group.jid, [grace.jid], 'remove')).rejects.toThrow();
    expect(group.members).toContain(GRACE);
  });

  it('lets the client leave a group (groupLeave): it sees itself removed and is no longer a member', async () => {
    const group = h.sim.groups.create({ subject: 'Short stay', creator: GRACE, members: [FRANK, h.bot] });
    await h.client.socket.groupMetadata(group.jid);
    await h.client.socket.groupLeave(group.jid);
    expect(group.members).toEqual([GRACE, FRANK]);
    await expect
      .poll(() => participantEvents.find((e) => e.id === group.jid)?.participants.map((p) => p.phoneNumber), { timeout: 10_000 })
      .toEqual([`${h.bot}@s.whatsapp.net`]);
    const all = await h.client.socket.groupFetchAllParticipating();
    expect(Object.keys(all)).not.toContain(group.jid);
  });

  it('runs a phone-number group (addressing_mode pn) both ways: participants are phone JIDs with the LID alongside', async () => {
    const group = h.sim.groups.create({ subject: 'Old style', creator: FRANK, members: [GRACE, h.bot], addressingMode: 'pn' });
    const meta = await h.client.socket.groupMetadata(group.jid);
    expect(meta.addressingMode).toBe('pn');
    expect(meta.participants.find((p) => p.id === frank.jid)?.lid).toBe(frank.lid);

    const upsert = h.client.waitForMessage((m) => m.message?.conversation === 'pn group text');
    await frank.sendText('pn group text', { group: group.jid });
    const message = await upsert;
    expect(message.key.participant).toBe(frank.jid);
    expect(message.key.participantAlt).toBe(frank.lid);

    const sent = await h.client.socket.sendMessage(group.jid, { text: 'pn group reply' });
    for (const phone of [frank, grace]) {
      const received = await phone.nextMessage();
      expect(received.id).toBe(sent?.key.id);
      expect(received.text).toBe('pn group reply');
    }
  });

  it("delivers a member's image with caption to the client, which downloads it", async () => {
    const group = h.sim.groups.create({ subject: 'Pictures', creator: GRACE, members: [FRANK, h.bot] });
    const upsert = h.client.waitForMessage((m) => m.message?.imageMessage?.caption === '!s' && m.key.remoteJid === group.jid);
    await grace.sendMedia('image', PNG_1X1, { caption: '!s', mimetype: 'image/png', width: 1, height: 1, group: group.jid });
    const message = await upsert;
    expect(message.key.participant).toBe(grace.lid);
    expect(await downloadMediaMessage(message, 'buffer', { options: { dispatcher: h.sim.media.dispatcher } })).toEqual(PNG_1X1);
  });

  it("lets a member quote another member's image, whose media the client downloads from the quote", async () => {
    const group = h.sim.groups.create({ subject: 'Quotes', creator: FRANK, members: [GRACE, h.bot] });
    const image = await frank.sendMedia('image', PNG_1X1, { mimetype: 'image/png', group: group.jid });
    const upsert = h.client.waitForMessage((m) => m.message?.extendedTextMessage?.text === '!s' && m.key.remoteJid === group.jid);
    await grace.sendText('!s', { group: group.jid, quoted: image });
    const message = await upsert;
    const context = message.message?.extendedTextMessage?.contextInfo;
    expect(message.key.participant).toBe(grace.lid);
    expect(context?.stanzaId).toBe(image.id);
    expect(context?.participant).toBe(frank.lid);
    const quoted = { key: { remoteJid: group.jid, id: context?.stanzaId, participant: context?.participant }, message: context?.quotedMessage };
    expect(await downloadMediaMessage(quoted, 'buffer', { options: { dispatcher: h.sim.media.dispatcher } })).toEqual(PNG_1X1);
  });

  it('queues group messages and notifications for an offline client and delivers them on reconnect', async () => {
    const group = h.sim.groups.create({ subject: 'While away', creator: FRANK, members: [GRACE, h.bot] });
    await h.client.socket.groupMetadata(group.jid);
    const deviceId = [...h.sim.account(h.bot).companions.keys()][0]!;
    const closed = h.client.waitClosed();
    h.sim.kick(h.bot, deviceId, 'close');
    await closed;
    await expect.poll(() => h.sim.isOnline(h.bot, deviceId), { timeout: 10_000 }).toBe(false);
    const first = await frank.sendText('group text while away', { group: group.jid });
    group.promote(FRANK, [GRACE]);
    const second = await grace.sendText('and one from the new admin', { group: group.jid });
    const upserts: string[] = [];
    h.client.on('messages.upsert', ({ messages }) => {
      for (const m of messages) if (m.key.remoteJid === group.jid && m.message) upserts.push(m.key.id ?? '');
    });
    await h.client.reconnect();
    await h.client.waitOpen();
    await expect.poll(() => upserts, { timeout: 15_000 }).toEqual([first.id, second.id]);
    await expect
      .poll(() => participantEvents.some((e) => e.id === group.jid && e.action === 'promote'), { timeout: 10_000 })
      .toBe(true);
  });

  it('leaves no unhandled node and no protocol problem behind', () => {
    expect(h.sim.unhandled.map((u) => u.key)).toEqual([]);
    expect(h.sim.problems).toEqual([]);
  });
});
