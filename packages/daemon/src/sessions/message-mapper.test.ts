import { messageSchema, botEventSchema } from '@stickerbot/protocol';
import type { WAMessage } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { fallbackMessage, mapGroupUpdate, mapMessage, mapMessageUpdate, mapParticipantsUpdate, mapReaction } from './message-mapper.js';
import { buildImageMessage, buildStickerMessage, buildTextMessage, buildVideoMessage } from '../test-kit/wa-messages.js';

const ALICE = '4915100000001';
const GROUP = '120363025246125486@g.us';
const T = 1_700_000_000_000;

describe('mapMessage', () => {
  it('maps a private text message with push name and ms timestamp', () => {
    const raw = buildTextMessage({ from: ALICE, text: '!help', pushName: 'Alice', id: 'ABC123', timestamp: T });
    const message = mapMessage(raw, false);
    expect(message).toEqual({
      id: 'ABC123',
      chat: `${ALICE}@s.whatsapp.net`,
      sender: `${ALICE}@s.whatsapp.net`,
      fromMe: false,
      isGroup: false,
      pushName: 'Alice',
      timestamp: T,
      kind: 'text',
      text: '!help',
      backlog: false,
    });
    expect(messageSchema.safeParse(message).success).toBe(true);
  });

  it('maps a group image with caption, quoted id and declared media', () => {
    const raw = buildImageMessage({
      from: ALICE,
      chat: GROUP,
      data: Buffer.alloc(1234),
      caption: '!sticker',
      width: 640,
      height: 480,
      quotedId: 'Q1',
      quotedMessage: { stickerMessage: { isAnimated: true } },
    });
    const message = mapMessage(raw, true);
    expect(message).toMatchObject({
      chat: GROUP,
      sender: `${ALICE}@s.whatsapp.net`,
      isGroup: true,
      kind: 'image',
      text: '!sticker',
      quotedId: 'Q1',
      quotedKind: 'sticker',
      backlog: true,
      media: { mimetype: 'image/jpeg', size: 1234, width: 640, height: 480 },
    });
    expect(messageSchema.safeParse(message).success).toBe(true);
  });

  it('tells a GIF from a video and reads the duration', () => {
    const video = mapMessage(buildVideoMessage({ from: ALICE, data: Buffer.alloc(10), seconds: 7 }), false);
    const gif = mapMessage(buildVideoMessage({ from: ALICE, data: Buffer.alloc(10), seconds: 2, gif: true }), false);
    expect(video).toMatchObject({ kind: 'video', media: { mimetype: 'video/mp4', durationS: 7 } });
    expect(gif).toMatchObject({ kind: 'gif', media: { durationS: 2 } });
  });

  it('flags animated stickers', () => {
    const still = mapMessage(buildStickerMessage({ from: ALICE, data: Buffer.alloc(5) }), false);
    const animated = mapMessage(buildStickerMessage({ from: ALICE, data: Buffer.alloc(5), animated: true }), false);
    expect(still?.media).toMatchObject({ mimetype: 'image/webp', animated: false, width: 512 });
    expect(animated?.media?.animated).toBe(true);
  });

  it('unwraps ephemeral and view-once wrappers and Long timestamps', () => {
    const raw: WAMessage = {
      key: { remoteJid: `${ALICE}@s.whatsapp.net`, fromMe: false, id: 'EPH1' },
      messageTimestamp: { low: 1_700_000_000, high: 0, unsigned: true, toNumber: () => 1_700_000_000 } as unknown as number,
      message: { ephemeralMessage: { message: { extendedTextMessage: { text: 'vanishing' } } } },
    };
    expect(mapMessage(raw, false)).toMatchObject({ kind: 'text', text: 'vanishing', timestamp: T });
  });

  it('uses the own account as sender of fromMe messages, without the device part', () => {
    const raw = buildTextMessage({ from: ALICE, text: 'sent from phone', fromMe: true });
    expect(mapMessage(raw, false, { selfJid: '15550000001:7@s.whatsapp.net' })?.sender).toBe('15550000001@s.whatsapp.net');
  });

  it('prefers the phone-number JID of a LID-addressed sender', () => {
    const group = buildTextMessage({ from: '99887766@lid', chat: GROUP, text: 'hi' });
    group.key.participantAlt = `${ALICE}:2@s.whatsapp.net`;
    expect(mapMessage(group, false)?.sender).toBe(`${ALICE}@s.whatsapp.net`);
    const direct = buildTextMessage({ from: '99887766@lid', text: 'hi' });
    direct.key.remoteJidAlt = `${ALICE}@s.whatsapp.net`;
    expect(mapMessage(direct, false)).toMatchObject({ chat: '99887766@lid', sender: `${ALICE}@s.whatsapp.net`, senderLid: '99887766@lid' });
  });

  it("falls back to the session's stored LID mapping, and keeps the LID as sender when the number is unknown", () => {
    const phoneOfLid = (lid: string) => (lid === '99887766@lid' ? `${ALICE}@s.whatsapp.net` : undefined);
    const known = mapMessage(buildTextMessage({ from: '99887766:5@lid', chat: GROUP, text: 'hi' }), false, { phoneOfLid });
    expect(known).toMatchObject({ sender: `${ALICE}@s.whatsapp.net`, senderLid: '99887766@lid' });
    const unknown = mapMessage(buildTextMessage({ from: '11223344@lid', chat: GROUP, text: 'hi' }), false, { phoneOfLid });
    expect(unknown).toMatchObject({ sender: '11223344@lid', senderLid: '11223344@lid' });
    const byPhone = mapMessage(buildTextMessage({ from: ALICE, chat: GROUP, text: 'hi' }), false, { phoneOfLid });
    expect(byPhone?.senderLid).toBeUndefined();
  });

  it('skips protocol messages, reactions, stubs and status updates', () => {
    const base = { key: { remoteJid: `${ALICE}@s.whatsapp.net`, fromMe: false, id: 'P1' }, messageTimestamp: 1 };
    expect(mapMessage({ ...base, message: { protocolMessage: { type: 0 } } }, false)).toBeUndefined();
    expect(mapMessage({ ...base, message: { reactionMessage: { text: '👍' } } }, false)).toBeUndefined();
    expect(mapMessage({ ...base, messageStubType: 1 }, false)).toBeUndefined();
    expect(mapMessage(buildTextMessage({ from: ALICE, chat: 'status@broadcast', text: 'story' }), false)).toBeUndefined();
  });

  it('falls back to kind other for a message it cannot map, keeping id, chat and sender', () => {
    const raw = buildTextMessage({ from: ALICE, chat: GROUP, text: 'x', id: 'FB1', timestamp: T });
    expect(fallbackMessage(raw, true)).toEqual({
      id: 'FB1',
      chat: GROUP,
      sender: `${ALICE}@s.whatsapp.net`,
      fromMe: false,
      isGroup: true,
      timestamp: T,
      kind: 'other',
      backlog: true,
    });
  });

  it('keeps unknown content as kind other', () => {
    const raw: WAMessage = {
      key: { remoteJid: `${ALICE}@s.whatsapp.net`, fromMe: false, id: 'O1' },
      messageTimestamp: 1,
      message: { buttonsResponseMessage: { selectedButtonId: 'x' } },
    };
    expect(mapMessage(raw, false)?.kind).toBe('other');
  });
});

describe('mapMessageUpdate', () => {
  const key = { remoteJid: `${ALICE}@s.whatsapp.net`, fromMe: true, id: 'M1' };

  it('maps receipts to status names', () => {
    expect(mapMessageUpdate({ key, update: { status: 2 } })?.status).toBe('server');
    expect(mapMessageUpdate({ key, update: { status: 4 } })?.status).toBe('read');
  });

  it('maps an edit and a delete for everyone', () => {
    const edit = mapMessageUpdate({ key, update: { message: { editedMessage: { message: { conversation: 'fixed' } } } } });
    const revoke = mapMessageUpdate({ key, update: { message: null, messageStubType: 1 } });
    expect(edit).toEqual({ type: 'message:updated', id: 'M1', chat: key.remoteJid, fromMe: true, editedText: 'fixed' });
    expect(revoke?.deleted).toBe(true);
    expect(botEventSchema.safeParse(edit).success).toBe(true);
  });

  it('ignores updates that carry nothing the protocol relays', () => {
    expect(mapMessageUpdate({ key, update: { starred: true } })).toBeUndefined();
  });
});

describe('mapReaction and mapParticipantsUpdate', () => {
  it('maps a group reaction with its sender and a removal as empty emoji', () => {
    const event = mapReaction({
      key: { remoteJid: GROUP, id: 'M1', fromMe: true },
      reaction: { key: { remoteJid: GROUP, participant: `${ALICE}:3@s.whatsapp.net`, id: 'R1' }, text: '🔥', senderTimestampMs: T },
    });
    expect(event).toEqual({ type: 'reaction:received', messageId: 'M1', chat: GROUP, sender: `${ALICE}@s.whatsapp.net`, emoji: '🔥', timestamp: T });
    const removed = mapReaction({ key: { remoteJid: GROUP, id: 'M1' }, reaction: { key: { participant: `${ALICE}@s.whatsapp.net` }, text: '' } }, { now: T });
    expect(removed?.emoji).toBe('');
    expect(botEventSchema.safeParse(removed).success).toBe(true);
  });

  it('maps participant changes and drops the modify action', () => {
    const event = mapParticipantsUpdate({ id: GROUP, author: `${ALICE}@s.whatsapp.net`, action: 'add', participants: [{ id: '4915100000002@s.whatsapp.net' }] });
    expect(event).toEqual({
      type: 'group:participants-changed',
      chat: GROUP,
      action: 'add',
      participants: ['4915100000002@s.whatsapp.net'],
      author: `${ALICE}@s.whatsapp.net`,
    });
    expect(mapParticipantsUpdate({ id: GROUP, author: '', action: 'modify', participants: [] })).toBeUndefined();
  });

  it('names LID participants by the number Baileys parsed from the notification, and flags the bot itself', () => {
    const self = { selfJid: '15550000001:4@s.whatsapp.net', selfLid: '90001@lid' };
    const event = mapParticipantsUpdate(
      { id: GROUP, author: '11111@lid', authorPn: `${ALICE}@s.whatsapp.net`, action: 'remove', participants: [{ id: '90001@lid', phoneNumber: '15550000001@s.whatsapp.net' }, { id: '22222@lid' }] },
      self,
    );
    expect(event).toEqual({
      type: 'group:participants-changed',
      chat: GROUP,
      action: 'remove',
      participants: ['15550000001@s.whatsapp.net', '22222@lid'],
      author: `${ALICE}@s.whatsapp.net`,
      includesSelf: true,
    });
    // The bot's own LID alone is enough.
    expect(mapParticipantsUpdate({ id: GROUP, author: '', action: 'add', participants: [{ id: '90001@lid' }] }, self)).toMatchObject({
      participants: ['15550000001@s.whatsapp.net'],
      includesSelf: true,
    });
    expect(mapParticipantsUpdate({ id: GROUP, author: '', action: 'add', participants: [{ id: '22222@lid' }] }, self)?.includesSelf).toBeUndefined();
  });

  it('maps subject, description and admins-only settings changes and skips the rest', () => {
    const event = mapGroupUpdate({ id: GROUP, subject: 'New name', announce: true, author: '11111@lid', authorPn: `${ALICE}@s.whatsapp.net` });
    expect(event).toEqual({ type: 'group:updated', chat: GROUP, subject: 'New name', announce: true, author: `${ALICE}@s.whatsapp.net` });
    expect(botEventSchema.safeParse(event).success).toBe(true);
    expect(mapGroupUpdate({ id: GROUP, desc: '', restrict: false })).toEqual({ type: 'group:updated', chat: GROUP, description: '', restrict: false });
    expect(mapGroupUpdate({ id: GROUP, inviteCode: 'abc', author: `${ALICE}@s.whatsapp.net` })).toBeUndefined();
    expect(mapGroupUpdate({ id: `${ALICE}@s.whatsapp.net`, subject: 'not a group' })).toBeUndefined();
  });
});
