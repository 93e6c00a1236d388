import { proto } from '@whiskeysockets/baileys';
import { lidJid, pnJid, type Account } from '../directory/accounts.js';
import { phoneGroupStanzas, phoneStanzaFor } from '../e2e/phone-send.js';
import { memberJid, type Group } from '../directory/groups.js';
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
  /**
   * Send to this group (JID or id) instead of the bot: sender-key encrypted (`skmsg`), with
   * the sender key distributed pairwise to companions that lack it. The phone must be a member.
   */
  readonly group?: string;
  /** Mention these members (phone numbers) in a text: `contextInfo.mentionedJid` in the group's addressing. */
  readonly mentions?: readonly string[];
  /**
   * 1:1 only: send from the phone's LID (`from='…@lid'`, `sender_pn` alongside), as WhatsApp
   * does for contacts it addresses by LID. The bot's upsert then has `remoteJid` = the LID.
   */
  readonly fromLid?: boolean;
}

/** What a phone send produced. */
export interface SentMessage {
  readonly id: string;
  readonly message: proto.IMessage;
  /** The chat on the bot's side: the group JID, or the phone's JID (PN form, or LID with `fromLid`). */
  readonly chatJid: string;
  /**
   * Group sends: the phone's address in the group (`key.participant` on the bot's side), so
   * another member can quote this message as it is (`quoted: sent`).
   */
  readonly participant?: string;
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
  /** Edits a text this phone sent earlier (`MESSAGE_EDIT` protocol message). */
  edit(messageId: string, text: string, options?: Pick<SendOptions, 'to' | 'group'>): Promise<SentMessage>;
  /** Deletes a message this phone sent earlier, for everyone (`REVOKE` protocol message). */
  revoke(messageId: string, options?: Pick<SendOptions, 'to' | 'group'>): Promise<SentMessage>;
  /** Reacts to a message the bot sent (in the group with `group`). */
  react(messageId: string, emoji: string, options?: Pick<SendOptions, 'to' | 'group'>): Promise<SentMessage>;
  /** Sends a read receipt for messages the bot sent (in the group with `group`). */
  read(messageIds: readonly string[], options?: Pick<SendOptions, 'to' | 'group'>): void;
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

/** The member of a group with a linked companion (the bot), whose messages phones answer. */
const companionMemberOf = (group: Group): Account => {
  const bot = [...group.members.values()].find((m) => m.account.companions.size > 0)?.account;
  if (!bot) throw new SimProtocolError('not-connected', `no member of ${group.jid} has a linked companion`);
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

  const sendToGroup = async (groupJid: string, message: proto.IMessage, mediaType: string | undefined): Promise<SentMessage> => {
    const group = world.groups.get(groupJid);
    if (!group.members.has(pn)) throw new SimProtocolError('not-a-member', `${pn} is not a member of ${group.jid}`);
    const id = newMessageId();
    const sent = { pn, message, group: group.jid, ...(mediaType ? { mediaType } : {}) };
    world.phoneSent.set(id, sent);
    for (const { pn: to, deviceId, node } of await phoneGroupStanzas(world, account, group, id, sent)) {
      deliverToCompanion(world, to, deviceId, node);
    }
    return { id, message, chatJid: group.jid, participant: memberJid(group, account) };
  };

  const sendMessage = async (
    message: proto.IMessage,
    options: SendOptions & { mediaType?: string } = {},
  ): Promise<SentMessage> => {
    if (options.group) return sendToGroup(options.group, message, options.mediaType);
    const bot = defaultBot(world, options.to);
    const id = newMessageId();
    const sent = { pn, message, ...(options.mediaType ? { mediaType: options.mediaType } : {}), ...(options.fromLid ? { fromLid: true } : {}) };
    world.phoneSent.set(id, sent);
    for (const companion of bot.companions.values()) {
      deliverToCompanion(world, bot.pn, companion.deviceId, await phoneStanzaFor(world, account, bot, companion, id, sent));
    }
    return { id, message, chatJid: options.fromLid ? lidJid(account.lid) : pnJid(pn) };
  };

  /** The key of a message in the chat `options` name, from this phone's point of view. */
  const keyOf = (messageId: string, fromMe: boolean, options: Pick<SendOptions, 'to' | 'group'>): proto.IMessageKey => {
    if (!options.group) return { remoteJid: pnJid(defaultBot(world, options.to).pn), fromMe, id: messageId };
    const group = world.groups.get(options.group);
    return fromMe
      ? { remoteJid: group.jid, fromMe, id: messageId }
      : { remoteJid: group.jid, fromMe, id: messageId, participant: memberJid(group, companionMemberOf(group)) };
  };

  /** Quote and mention context for a text, in the addressing of its chat. */
  const contextOf = (options: SendOptions): proto.IContextInfo | undefined => {
    const group = options.group ? world.groups.get(options.group) : undefined;
    const mentionedJid = options.mentions?.map((m) => {
      const member = world.directory.byPn(m);
      if (!member) throw new SimProtocolError('unknown-account', `cannot mention unknown phone ${m}`);
      return group ? memberJid(group, member) : pnJid(m);
    });
    const quoted = options.quoted;
    if (!quoted && !mentionedJid) return undefined;
    const quotedAuthor = (): string => {
      if (quoted?.participant) return quoted.participant;
      if (group) return memberJid(group, companionMemberOf(group));
      const bot = defaultBot(world, options.to);
      // In a chat the phone writes to from its LID, the bot is addressed by its LID too.
      return options.fromLid ? lidJid(bot.lid) : pnJid(bot.pn);
    };
    return {
      ...(quoted ? { stanzaId: quoted.id, participant: quotedAuthor(), quotedMessage: quoted.message } : {}),
      ...(mentionedJid ? { mentionedJid } : {}),
    };
  };

  return {
    pn,
    jid: pnJid(pn),
    lid: lidJid(account.lid),
    received: mailbox.all,
    sendMessage,
    sendText(text, options = {}) {
      const contextInfo = contextOf(options);
      if (!contextInfo) return sendMessage({ conversation: text }, options);
      return sendMessage({ extendedTextMessage: { text, contextInfo } }, options);
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
    edit(messageId, text, options = {}) {
      return sendMessage(
        {
          protocolMessage: {
            key: keyOf(messageId, true, options),
            type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
            editedMessage: { conversation: text },
            timestampMs: Date.now(),
          },
        },
        options,
      );
    },
    revoke(messageId, options = {}) {
      return sendMessage(
        {
          protocolMessage: {
            key: keyOf(messageId, true, options),
            type: proto.Message.ProtocolMessage.Type.REVOKE,
          },
        },
        options,
      );
    },
    react(messageId, emoji, options = {}) {
      return sendMessage(
        {
          reactionMessage: {
            key: keyOf(messageId, false, options),
            text: emoji,
            senderTimestampMs: Date.now(),
          },
        },
        options,
      );
    },
    read(messageIds, options = {}) {
      const [first, ...rest] = messageIds;
      if (!first) return;
      const group = options.group ? world.groups.get(options.group) : undefined;
      const bot = group ? companionMemberOf(group) : defaultBot(world, options.to);
      const from: Record<string, string> = group ? { from: group.jid, participant: memberJid(group, account) } : { from: pnJid(pn) };
      for (const companion of bot.companions.values()) {
        deliverToCompanion(world, bot.pn, companion.deviceId, {
          tag: 'receipt',
          attrs: { ...from, id: first, type: 'read', t: unixNow() },
          ...(rest.length > 0
            ? { content: [{ tag: 'list', attrs: {}, content: rest.map((id) => ({ tag: 'item', attrs: { id } })) }] }
            : {}),
        });
      }
    },
    nextMessage: (timeoutMs = 20_000) => mailbox.next(timeoutMs),
  };
}
