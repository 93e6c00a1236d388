import type { proto } from '@whiskeysockets/baileys';
import { lidJid, pnJid, type Account } from '../directory/accounts.js';
import { phoneStanzaFor } from '../e2e/phone-send.js';
import type { ReceivedMessage } from '../e2e/mailbox.js';
import { decryptMedia, encryptMedia, type SimMediaType } from '../media/media-crypto.js';
import { SimProtocolError } from '../errors.js';
import { newMessageId } from '../pairing/qr-pairing.js';
import { unixNow } from '../server/nodes.js';
import { deliverToCompanion, mailboxOf, type World } from '../server/world.js';

/** A message to quote: one the phone received (from `nextMessage`) or one it sent. */
export interface QuoteRef {
  readonly id: string;
  readonly message: proto.IMessage;
  /** Who wrote the quoted message (jid); defaults to the bot. */
  readonly participant?: string;
}

/** Options for phone sends. */
export interface SendOptions {
  /** The bot's phone number; defaults to the only account with a linked companion. */
  readonly to?: string;
  /** Quote this message (an `extendedTextMessage` with `contextInfo`). */
  readonly quoted?: QuoteRef;
}

/** What a phone send produced. */
export interface SentMessage {
  readonly id: string;
  readonly message: proto.IMessage;
  /** The bot's chat jid of the phone (PN form). */
  readonly chatJid: string;
}

/** Media a phone can send; `gif` is an mp4 with `gifPlayback`. */
export type PhoneMediaKind = 'image' | 'video' | 'gif' | 'sticker' | 'audio' | 'document';

/** Options for {@link ContactPhone.sendMedia}. */
export interface MediaSendOptions extends SendOptions {
  readonly caption?: string;
  /** Defaults: image/jpeg, video/mp4, image/webp. */
  readonly mimetype?: string;
  readonly width?: number;
  readonly height?: number;
  /** Video duration, seconds. */
  readonly seconds?: number;
  /** Sticker: animated webp. */
  readonly animated?: boolean;
  /** Document: file name shown to the user. */
  readonly fileName?: string;
  /** Audio: a voice note (push-to-talk). */
  readonly ptt?: boolean;
}

/** A fake contact phone with real Signal state. */
export interface ContactPhone {
  readonly pn: string;
  readonly jid: string;
  readonly lid: string;
  sendText(text: string, options?: SendOptions): Promise<SentMessage>;
  /** Sends any WAProto message (encrypted per companion device, queued if the companion is offline). */
  sendMessage(message: proto.IMessage, options?: SendOptions & { mediaType?: string }): Promise<SentMessage>;
  /** Encrypts media, stores it on the media host and sends the media message. */
  sendMedia(kind: PhoneMediaKind, data: Buffer, options?: MediaSendOptions): Promise<SentMessage>;
  /**
   * Downloads and decrypts the media of a received message, verifying fileEncSha256, the HMAC
   * and fileSha256 against what the message says.
   */
  downloadMedia(received: ReceivedMessage): Buffer;
  /** Reacts to a message the bot sent. */
  react(messageId: string, emoji: string, options?: Pick<SendOptions, 'to'>): Promise<SentMessage>;
  /** Sends a read receipt for messages the bot sent. */
  read(messageIds: readonly string[], options?: Pick<SendOptions, 'to'>): void;
  /** The next message a companion sent to this phone, decrypted. */
  nextMessage(timeoutMs?: number): Promise<ReceivedMessage>;
  /** Every message this phone received so far. */
  readonly received: readonly ReceivedMessage[];
}

const defaultBot = (world: World, to: string | undefined): Account => {
  const bot = to ? world.directory.byPn(to) : world.directory.all().find((a) => a.companions.size > 0);
  if (!bot || bot.companions.size === 0) throw new SimProtocolError('not-connected', 'no linked companion to send to');
  return bot;
};

const mediaMessage = (kind: PhoneMediaKind, data: Buffer, world: World, options: MediaSendOptions): proto.IMessage => {
  const encrypted = encryptMedia(data, kind);
  const stored = world.media.put(encrypted.blob);
  const common = {
    url: stored.url,
    directPath: stored.directPath,
    mediaKey: encrypted.mediaKey,
    fileSha256: encrypted.fileSha256,
    fileEncSha256: encrypted.fileEncSha256,
    fileLength: encrypted.fileLength,
    mediaKeyTimestamp: Math.floor(Date.now() / 1000),
    ...(options.width !== undefined ? { width: options.width } : {}),
    ...(options.height !== undefined ? { height: options.height } : {}),
  };
  const caption = options.caption !== undefined ? { caption: options.caption } : {};
  switch (kind) {
    case 'image':
      return { imageMessage: { ...common, ...caption, mimetype: options.mimetype ?? 'image/jpeg' } };
    case 'sticker':
      return { stickerMessage: { ...common, mimetype: options.mimetype ?? 'image/webp', isAnimated: options.animated ?? false } };
    case 'audio':
      return { audioMessage: { ...common, mimetype: options.mimetype ?? 'audio/ogg; codecs=opus', seconds: options.seconds ?? 1, ptt: options.ptt ?? false } };
    case 'document':
      return {
        documentMessage: {
          ...common,
          ...caption,
          mimetype: options.mimetype ?? 'application/octet-stream',
          fileName: options.fileName ?? 'file.bin',
        },
      };
    case 'video':
    case 'gif':
      return {
        videoMessage: {
          ...common,
          ...caption,
          mimetype: options.mimetype ?? 'video/mp4',
          seconds: options.seconds ?? 1,
          gifPlayback: kind === 'gif',
        },
      };
  }
};

type MediaFields = proto.Message.IImageMessage | proto.Message.IVideoMessage | proto.Message.IStickerMessage;

const mediaOf = (message: proto.IMessage): { type: SimMediaType; fields: MediaFields } | undefined => {
  if (message.imageMessage) return { type: 'image', fields: message.imageMessage };
  if (message.stickerMessage) return { type: 'sticker', fields: message.stickerMessage };
  if (message.videoMessage) return { type: 'video', fields: message.videoMessage };
  if (message.audioMessage) return { type: 'audio', fields: message.audioMessage as MediaFields };
  if (message.documentMessage) return { type: 'document', fields: message.documentMessage as MediaFields };
  return undefined;
};

export function createContactPhone(world: World, pn: string, pushName?: string): ContactPhone {
  const account = world.directory.ensure(pn, pushName);
  const mailbox = mailboxOf(world, pn);

  const sendMessage = async (
    message: proto.IMessage,
    options: SendOptions & { mediaType?: string } = {},
  ): Promise<SentMessage> => {
    const bot = defaultBot(world, options.to);
    const id = newMessageId();
    const sent = { pn, message, ...(options.mediaType ? { mediaType: options.mediaType } : {}) };
    world.phoneSent.set(id, sent);
    for (const companion of bot.companions.values()) {
      deliverToCompanion(world, bot.pn, companion.deviceId, await phoneStanzaFor(world, account, bot, companion, id, sent));
    }
    return { id, message, chatJid: pnJid(pn) };
  };

  return {
    pn,
    jid: pnJid(pn),
    lid: lidJid(account.lid),
    received: mailbox.all,
    sendMessage,
    sendText(text, options = {}) {
      const quoted = options.quoted;
      if (!quoted) return sendMessage({ conversation: text }, options);
      const participant = quoted.participant ?? pnJid(defaultBot(world, options.to).pn);
      return sendMessage(
        {
          extendedTextMessage: {
            text,
            contextInfo: { stanzaId: quoted.id, participant, quotedMessage: quoted.message },
          },
        },
        options,
      );
    },
    sendMedia(kind, data, options = {}) {
      return sendMessage(mediaMessage(kind, data, world, options), { ...options, mediaType: kind });
    },
    downloadMedia(received) {
      const media = mediaOf(received.message);
      if (!media?.fields.mediaKey) throw new SimProtocolError('media', `message ${received.id} carries no media`);
      const blob = world.media.get(media.fields.directPath ?? media.fields.url ?? '');
      if (!blob) throw new SimProtocolError('media', `media of ${received.id} was never uploaded to the emulator`);
      return decryptMedia(blob, media.type, {
        mediaKey: media.fields.mediaKey,
        fileSha256: media.fields.fileSha256,
        fileEncSha256: media.fields.fileEncSha256,
      });
    },
    react(messageId, emoji, options = {}) {
      const bot = defaultBot(world, options.to);
      return sendMessage(
        {
          reactionMessage: {
            key: { remoteJid: pnJid(bot.pn), fromMe: false, id: messageId },
            text: emoji,
            senderTimestampMs: Date.now(),
          },
        },
        options,
      );
    },
    read(messageIds, options = {}) {
      const bot = defaultBot(world, options.to);
      const [first, ...rest] = messageIds;
      if (!first) return;
      for (const companion of bot.companions.values()) {
        deliverToCompanion(world, bot.pn, companion.deviceId, {
          tag: 'receipt',
          attrs: { from: pnJid(pn), id: first, type: 'read', t: unixNow() },
          ...(rest.length > 0
            ? { content: [{ tag: 'list', attrs: {}, content: rest.map((id) => ({ tag: 'item', attrs: { id } })) }] }
            : {}),
        });
      }
    },
    nextMessage: (timeoutMs = 20_000) => mailbox.next(timeoutMs),
  };
}
