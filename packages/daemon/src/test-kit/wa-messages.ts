/**
 * Builders of real `WAMessage` shapes (what Baileys emits in `messages.upsert`), for the
 * fake socket and for tests of anything that maps or stores them.
 */
import { randomBytes } from 'node:crypto';
import type { WAMessage, proto } from '@whiskeysockets/baileys';

/** `4915123456789` or a JID → a JID (`…@s.whatsapp.net` for bare digits). */
export function toJid(phoneOrJid: string): string {
  return phoneOrJid.includes('@') ? phoneOrJid : `${phoneOrJid}@s.whatsapp.net`;
}

/** A message id shaped like WhatsApp's (uppercase hex). */
export function fakeMessageId(prefix = '3EB0'): string {
  return `${prefix}${randomBytes(8).toString('hex').toUpperCase()}`;
}

/** Fields every built message accepts. */
export interface MessageBase {
  /** Sender: digits or JID (`…@lid` for a sender WhatsApp addresses by LID). */
  from: string;
  /**
   * The sender's other address, as WhatsApp sends it alongside a LID sender: the key's
   * `participantAlt` in a group, `remoteJidAlt` in a private chat (digits or JID).
   */
  fromAlt?: string;
  /** Chat: defaults to the sender's JID; a `…@g.us` JID makes it a group message. */
  chat?: string;
  /** Message id; random when unset. */
  id?: string;
  /** Whether this account sent it (from another device). */
  fromMe?: boolean;
  /** Push name of the sender. */
  pushName?: string;
  /** When it was sent (epoch ms); now when unset. */
  timestamp?: number;
  /** A message id this one quotes. */
  quotedId?: string;
  /** Who wrote the quoted message (defaults to the sender). */
  quotedParticipant?: string;
  /** The quoted message's content (defaults to a short text). */
  quotedMessage?: proto.IMessage;
}

/** Media fields of built media messages. */
export interface MediaBase extends MessageBase {
  /** The media bytes (their length becomes the declared `fileLength` unless `declaredSize`). */
  data: Uint8Array;
  /** Overrides the declared size (e.g. to test the media cap without big buffers). */
  declaredSize?: number;
  mimetype?: string;
  caption?: string;
  width?: number;
  height?: number;
}

function contextInfo(base: MessageBase): proto.IContextInfo | undefined {
  if (base.quotedId === undefined) return undefined;
  return {
    stanzaId: base.quotedId,
    participant: toJid(base.quotedParticipant ?? base.from),
    quotedMessage: base.quotedMessage ?? { conversation: 'quoted' },
  };
}

function envelope(base: MessageBase, message: proto.IMessage): WAMessage {
  const chat = toJid(base.chat ?? base.from);
  const isGroup = chat.endsWith('@g.us');
  const ts = base.timestamp ?? Date.now();
  return {
    key: {
      remoteJid: chat,
      fromMe: base.fromMe ?? false,
      id: base.id ?? fakeMessageId(),
      ...(isGroup ? { participant: toJid(base.from) } : {}),
      ...(base.fromAlt === undefined ? {} : isGroup ? { participantAlt: toJid(base.fromAlt) } : { remoteJidAlt: toJid(base.fromAlt) }),
    },
    messageTimestamp: Math.floor(ts / 1000),
    ...(base.pushName === undefined ? {} : { pushName: base.pushName }),
    message,
  };
}

function mediaFields(media: MediaBase, defaultMime: string): proto.Message.IImageMessage {
  return {
    url: 'https://mmg.whatsapp.net/v/t62.7118-24/fake.enc',
    directPath: '/v/t62.7118-24/fake.enc',
    mimetype: media.mimetype ?? defaultMime,
    fileLength: media.declaredSize ?? media.data.byteLength,
    fileSha256: randomBytes(32),
    fileEncSha256: randomBytes(32),
    mediaKey: randomBytes(32),
    mediaKeyTimestamp: Math.floor((media.timestamp ?? Date.now()) / 1000),
    ...(media.width === undefined ? {} : { width: media.width }),
    ...(media.height === undefined ? {} : { height: media.height }),
  };
}

/** A text message: `conversation`, or `extendedTextMessage` when it quotes something. */
export function buildTextMessage(input: MessageBase & { text: string }): WAMessage {
  const ctx = contextInfo(input);
  const message: proto.IMessage = ctx ? { extendedTextMessage: { text: input.text, contextInfo: ctx } } : { conversation: input.text };
  return envelope(input, message);
}

/** An image message. */
export function buildImageMessage(input: MediaBase): WAMessage {
  const ctx = contextInfo(input);
  return envelope(input, {
    imageMessage: {
      ...mediaFields(input, 'image/jpeg'),
      ...(input.caption === undefined ? {} : { caption: input.caption }),
      ...(ctx ? { contextInfo: ctx } : {}),
    },
  });
}

/** A video message; `gif` sets `gifPlayback` (WhatsApp's GIFs are looping MP4s). */
export function buildVideoMessage(input: MediaBase & { seconds?: number; gif?: boolean }): WAMessage {
  const ctx = contextInfo(input);
  return envelope(input, {
    videoMessage: {
      ...mediaFields(input, 'video/mp4'),
      seconds: input.seconds ?? 3,
      ...(input.gif ? { gifPlayback: true } : {}),
      ...(input.caption === undefined ? {} : { caption: input.caption }),
      ...(ctx ? { contextInfo: ctx } : {}),
    },
  });
}

/** A sticker message (WebP). */
export function buildStickerMessage(input: Omit<MediaBase, 'caption'> & { animated?: boolean }): WAMessage {
  const ctx = contextInfo(input);
  return envelope(input, {
    stickerMessage: {
      ...mediaFields({ width: 512, height: 512, ...input }, 'image/webp'),
      isAnimated: input.animated ?? false,
      ...(ctx ? { contextInfo: ctx } : {}),
    },
  });
}
