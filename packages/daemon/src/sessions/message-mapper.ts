/**
 * Baileys objects → the protocol's DTOs (DESIGN §4: the worker never sees Baileys shapes).
 * Pure functions; the raw `WAMessage` is journaled beside the DTO by the supervisor.
 */
import {
  GROUP_PARTICIPANT_ACTIONS,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  type BotEventOf,
  type Media,
  type Message,
  type MessageKind,
} from '@stickerbot/protocol';
import type { WAMessage, WAMessageKey, proto, toNumber } from '@whiskeysockets/baileys';
import { baileys } from '../storage/index.js';
import type { WaSocketEvents } from './wa-socket.js';

/** What the mapper needs to know about the session. */
export interface MapContext {
  /** This session's own account JID (for `fromMe` senders), when known. */
  selfJid?: string;
  /** This session's own LID, when WhatsApp announced one (to recognise the bot in group notifications). */
  selfLid?: string;
  /**
   * The phone-number JID of a LID from the mapping Baileys stores (`lid-mapping` auth keys),
   * for a LID that came without its number alongside. Synchronous: messages are mapped
   * before their receipt leaves.
   */
  phoneOfLid?: (lid: string) => string | undefined;
  /** Now, in epoch ms (a fallback for messages without a timestamp). */
  now?: number;
}

type ContentKey = keyof proto.IMessage;

/** Content types that never become a `message:received` (they arrive as other events, or carry nothing). */
const SKIPPED_CONTENT = new Set<ContentKey>([
  'protocolMessage',
  'reactionMessage',
  'senderKeyDistributionMessage',
  'pollUpdateMessage',
  'encReactionMessage',
  'keepInChatMessage',
]);

const KIND_BY_CONTENT: Partial<Record<ContentKey, MessageKind>> = {
  conversation: 'text',
  extendedTextMessage: 'text',
  imageMessage: 'image',
  videoMessage: 'video',
  ptvMessage: 'video',
  stickerMessage: 'sticker',
  audioMessage: 'audio',
  documentMessage: 'document',
  locationMessage: 'location',
  liveLocationMessage: 'location',
  contactMessage: 'contact',
  contactsArrayMessage: 'contact',
  pollCreationMessage: 'poll',
  pollCreationMessageV2: 'poll',
  pollCreationMessageV3: 'poll',
};

/** Chats whose messages are not relayed: status updates are not conversations with the bot. */
const IGNORED_CHATS = new Set(['status@broadcast']);

function truncate(value: string | null | undefined, max: number): string | undefined {
  if (value === null || value === undefined) return undefined;
  return value.length > max ? value.slice(0, max) : value;
}

function numberOf(value: Parameters<typeof toNumber>[0]): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = baileys().toNumber(value);
  return Number.isFinite(n) ? n : undefined;
}

/** JIDs normalized lately: chats and senders repeat, and a lookup costs less than Baileys' decode (`pnpm bench:bridge`). */
const normalized = new Map<string, string>();
const MAX_NORMALIZED = 10_000;

/** A user JID without its device part (`123:4@s.whatsapp.net` → `123@s.whatsapp.net`); group JIDs unchanged. */
export function normalizeJid(jid: string): string {
  const known = normalized.get(jid);
  if (known !== undefined) return known;
  const result = baileys().isJidGroup(jid) ? jid : baileys().jidNormalizedUser(jid) || jid;
  if (normalized.size >= MAX_NORMALIZED) normalized.clear();
  normalized.set(jid, result);
  return result;
}

/** A person as the protocol names them: phone-number JID first, their LID beside it when they were addressed by one. */
export interface PersonIds {
  jid: string;
  lid?: string;
}

/**
 * A person's phone-number JID when it is known: with LID addressing (Baileys 7) the key holds
 * `…@lid` and the phone-number form only in `participantAlt`/`remoteJidAlt` (or, for a LID
 * seen before, in the mapping Baileys stores), and the worker matches owners, admins and
 * rate limits by phone number.
 */
export function personIds(jid: string, alt: string | null | undefined, context: MapContext = {}): PersonIds {
  const normalized = normalizeJid(jid);
  if (!normalized.endsWith('@lid')) return { jid: normalized };
  const phone = alt?.endsWith('@s.whatsapp.net') ? normalizeJid(alt) : lookUpPhone(normalized, context);
  return phone === undefined ? { jid: normalized, lid: normalized } : { jid: phone, lid: normalized };
}

function lookUpPhone(lid: string, context: MapContext): string | undefined {
  if (context.selfLid !== undefined && context.selfJid !== undefined && normalizeJid(context.selfLid) === lid) return normalizeJid(context.selfJid);
  const phone = context.phoneOfLid?.(lid);
  return phone?.endsWith('@s.whatsapp.net') ? normalizeJid(phone) : undefined;
}

/** The content key and kind of a message (after unwrapping ephemeral/view-once wrappers). */
export function classifyContent(content: proto.IMessage | null | undefined): { key: ContentKey; kind: MessageKind } | undefined {
  const normalized = baileys().normalizeMessageContent(content);
  const key = baileys().getContentType(normalized);
  if (!key || !normalized) return undefined;
  let kind = KIND_BY_CONTENT[key] ?? 'other';
  if (key === 'videoMessage' && normalized.videoMessage?.gifPlayback) kind = 'gif';
  return { key, kind };
}

interface InnerFields {
  text?: string | null;
  caption?: string | null;
  contextInfo?: proto.IContextInfo | null;
  mimetype?: string | null;
  fileLength?: Parameters<typeof toNumber>[0];
  seconds?: number | null;
  width?: number | null;
  height?: number | null;
  isAnimated?: boolean | null;
  fileName?: string | null;
}

function innerOf(content: proto.IMessage, key: ContentKey): InnerFields | undefined {
  const inner: unknown = content[key];
  if (typeof inner !== 'object' || inner === null) return undefined;
  const fields: InnerFields = inner;
  return fields;
}

function mediaOf(inner: InnerFields, kind: MessageKind): Media | undefined {
  if (!['image', 'video', 'gif', 'sticker', 'audio', 'document'].includes(kind)) return undefined;
  const media: Media = {
    mimetype: truncate(inner.mimetype, 255) || 'application/octet-stream',
    size: Math.max(0, Math.trunc(numberOf(inner.fileLength) ?? 0)),
  };
  if (typeof inner.seconds === 'number') media.durationS = inner.seconds;
  if (typeof inner.width === 'number') media.width = inner.width;
  if (typeof inner.height === 'number') media.height = inner.height;
  if (kind === 'sticker') media.animated = inner.isAnimated ?? false;
  const fileName = truncate(inner.fileName, MAX_NAME_LENGTH);
  if (fileName) media.fileName = fileName;
  return media;
}

/**
 * The message `quotedId` as WhatsApp embeds it in a message that quotes it (`contextInfo`:
 * the quoted content with its media keys, its id and author), shaped as a `WAMessage` Baileys
 * can download media from; `undefined` when `raw` does not quote `quotedId`.
 */
export function quotedMessageOf(raw: WAMessage, quotedId: string): WAMessage | undefined {
  const classified = classifyContent(raw.message);
  const content = baileys().normalizeMessageContent(raw.message);
  if (!classified || !content || classified.key === 'conversation') return undefined;
  const context = innerOf(content, classified.key)?.contextInfo;
  if (!context?.quotedMessage || context.stanzaId !== quotedId) return undefined;
  const key: WAMessageKey = { remoteJid: context.remoteJid ?? raw.key.remoteJid ?? null, id: quotedId, fromMe: false };
  if (context.participant) key.participant = context.participant;
  return { key, message: context.quotedMessage };
}

/** The epoch-ms timestamp of a message (`messageTimestamp` is in seconds, possibly a `Long`). */
export function messageTimestampMs(raw: WAMessage, now = Date.now()): number {
  const seconds = numberOf(raw.messageTimestamp);
  return seconds === undefined ? now : seconds * 1000;
}

/**
 * Maps one `WAMessage` of `messages.upsert` to the protocol's `Message`, or `undefined` for
 * what is not a message to relay: stubs without content, protocol messages (edits and
 * deletes arrive as `messages.update`), reactions (`messages.reaction`), status updates.
 */
export function mapMessage(raw: WAMessage, backlog: boolean, context: MapContext = {}): Message | undefined {
  const id = raw.key.id;
  const remoteJid = raw.key.remoteJid;
  if (!id || !remoteJid || IGNORED_CHATS.has(remoteJid)) return undefined;
  const classified = classifyContent(raw.message);
  if (!classified || SKIPPED_CONTENT.has(classified.key)) return undefined;
  const content = baileys().normalizeMessageContent(raw.message);
  if (!content) return undefined;
  const { key, kind } = classified;

  const chat = normalizeJid(remoteJid);
  const isGroup = baileys().isJidGroup(chat) ?? false;
  const fromMe = raw.key.fromMe ?? false;
  const participant = raw.key.participant ?? raw.participant ?? undefined;
  const from =
    fromMe && context.selfJid
      ? { jid: normalizeJid(context.selfJid) }
      : isGroup && participant
        ? personIds(participant, raw.key.participantAlt, context)
        : personIds(chat, raw.key.remoteJidAlt, context);

  const inner = key === 'conversation' ? undefined : innerOf(content, key);
  const text = key === 'conversation' ? content.conversation : (inner?.text ?? inner?.caption);
  const quotedId = inner?.contextInfo?.stanzaId ?? undefined;
  const quotedKind = quotedId ? classifyContent(inner?.contextInfo?.quotedMessage)?.kind : undefined;

  const message: Message = {
    id,
    chat,
    sender: from.jid,
    fromMe,
    isGroup,
    timestamp: messageTimestampMs(raw, context.now),
    kind,
    backlog,
  };
  if (from.lid !== undefined) message.senderLid = from.lid;
  const pushName = truncate(raw.pushName, MAX_NAME_LENGTH);
  if (pushName) message.pushName = pushName;
  const cut = truncate(text, MAX_TEXT_LENGTH);
  if (cut !== undefined) message.text = cut;
  if (quotedId) message.quotedId = quotedId;
  if (quotedKind) message.quotedKind = quotedKind;
  const media = inner ? mediaOf(inner, kind) : undefined;
  if (media) message.media = media;
  return message;
}

/**
 * The least a message can be mapped to when {@link mapMessage} fails on an unexpected
 * shape: kind `other`, so that it is still journaled (with its raw form) and not lost.
 */
export function fallbackMessage(raw: WAMessage, backlog: boolean, now = Date.now()): Message | undefined {
  const id = raw.key.id;
  const remoteJid = raw.key.remoteJid;
  if (!id || !remoteJid || IGNORED_CHATS.has(remoteJid)) return undefined;
  const chat = normalizeJid(remoteJid);
  const isGroup = baileys().isJidGroup(chat) ?? false;
  const participant = raw.key.participant ?? undefined;
  let timestamp = now;
  try {
    timestamp = messageTimestampMs(raw, now);
  } catch {
    // keep now
  }
  return { id, chat, sender: isGroup && participant ? normalizeJid(participant) : chat, fromMe: raw.key.fromMe ?? false, isGroup, timestamp, kind: 'other', backlog };
}

const RECEIPTS = ['pending', 'server', 'delivered', 'read', 'played'] as const;
/** `proto.WebMessageInfo.Status` → receipt name (0 = ERROR has none). */
function receiptOf(status: number | null | undefined): (typeof RECEIPTS)[number] | undefined {
  if (typeof status !== 'number' || status < 1) return undefined;
  return RECEIPTS[Math.min(status, RECEIPTS.length) - 1];
}

/** `WAMessageStubType.REVOKE`: a delete for everyone. */
const STUB_REVOKE = 1;

/** Maps one `messages.update` entry (receipt, edit, delete) to `message:updated`, or `undefined` if it carries none of those. */
export function mapMessageUpdate(entry: WaSocketEvents['messages.update'][number]): BotEventOf<'message:updated'> | undefined {
  const { key, update } = entry;
  if (!key.id || !key.remoteJid || IGNORED_CHATS.has(key.remoteJid)) return undefined;
  const event: BotEventOf<'message:updated'> = {
    type: 'message:updated',
    id: key.id,
    chat: normalizeJid(key.remoteJid),
    fromMe: key.fromMe ?? false,
  };
  const status = receiptOf(update.status);
  if (status) event.status = status;
  const edited = update.message?.editedMessage?.message;
  if (edited) {
    const classified = classifyContent(edited);
    const normalized = baileys().normalizeMessageContent(edited);
    if (classified && normalized) {
      const inner = classified.key === 'conversation' ? undefined : innerOf(normalized, classified.key);
      const text = classified.key === 'conversation' ? normalized.conversation : (inner?.text ?? inner?.caption);
      const cut = truncate(text, MAX_TEXT_LENGTH);
      if (cut !== undefined) event.editedText = cut;
    }
  }
  if (Number(update.messageStubType) === STUB_REVOKE || update.message === null) event.deleted = true;
  return event.status || event.editedText !== undefined || event.deleted ? event : undefined;
}

/** Maps one `messages.reaction` entry to `reaction:received`. */
export function mapReaction(
  entry: WaSocketEvents['messages.reaction'][number],
  context: MapContext = {},
): BotEventOf<'reaction:received'> | undefined {
  const { key, reaction } = entry;
  if (!key.id || !key.remoteJid || IGNORED_CHATS.has(key.remoteJid)) return undefined;
  const chat = normalizeJid(key.remoteJid);
  // Baileys copies the reacting message's key here, alternates included.
  const by: WAMessageKey | null | undefined = reaction.key;
  const sender =
    by?.fromMe && context.selfJid
      ? normalizeJid(context.selfJid)
      : by?.participant
        ? personIds(by.participant, by.participantAlt, context).jid
        : by?.remoteJid && !baileys().isJidGroup(by.remoteJid)
          ? personIds(by.remoteJid, by.remoteJidAlt, context).jid
          : chat;
  const ms = numberOf(reaction.senderTimestampMs);
  return {
    type: 'reaction:received',
    messageId: key.id,
    chat,
    sender,
    emoji: truncate(reaction.text, 32) ?? '',
    timestamp: ms !== undefined && ms > 0 ? ms : (context.now ?? Date.now()),
  };
}

const PARTICIPANT_ACTIONS: ReadonlySet<string> = new Set(GROUP_PARTICIPANT_ACTIONS);

/** Whether `person` is this session's own account. */
export function isSelf(person: PersonIds, context: MapContext): boolean {
  const self = context.selfJid === undefined ? undefined : normalizeJid(context.selfJid);
  const selfLid = context.selfLid === undefined ? undefined : normalizeJid(context.selfLid);
  return (self !== undefined && person.jid === self) || (selfLid !== undefined && (person.lid === selfLid || person.jid === selfLid));
}

/**
 * The members a `group-participants.update` concerns. Baileys gives each as a `Contact`
 * parsed from the notification: `id` (a LID in LID-addressed groups) and `phoneNumber`
 * when WhatsApp sent it.
 */
export function participantsOf(update: WaSocketEvents['group-participants.update'], context: MapContext = {}): PersonIds[] {
  const people: PersonIds[] = [];
  for (const entry of update.participants.slice(0, 1024)) {
    const contact: { id?: unknown; phoneNumber?: unknown; lid?: unknown } = typeof entry === 'string' ? { id: entry } : entry;
    const id = typeof contact.id === 'string' && contact.id.includes('@') ? contact.id : undefined;
    const lid = typeof contact.lid === 'string' && contact.lid.endsWith('@lid') ? contact.lid : undefined;
    const phone = typeof contact.phoneNumber === 'string' ? contact.phoneNumber : undefined;
    const primary = id ?? lid ?? phone;
    if (primary === undefined) continue;
    const person = personIds(primary, phone, context);
    if (person.lid === undefined && lid !== undefined) person.lid = normalizeJid(lid);
    people.push(person);
  }
  return people;
}

/** Maps a `group-participants.update` to `group:participants-changed` (`modify` has no protocol counterpart). */
export function mapParticipantsUpdate(
  update: WaSocketEvents['group-participants.update'],
  context: MapContext = {},
): BotEventOf<'group:participants-changed'> | undefined {
  if (!PARTICIPANT_ACTIONS.has(update.action)) return undefined;
  const people = participantsOf(update, context);
  const event: BotEventOf<'group:participants-changed'> = {
    type: 'group:participants-changed',
    chat: update.id,
    action: update.action as BotEventOf<'group:participants-changed'>['action'],
    participants: people.map((person) => person.jid),
  };
  if (update.author) event.author = personIds(update.author, update.authorPn, context).jid;
  if (people.some((person) => isSelf(person, context))) event.includesSelf = true;
  return event;
}

/**
 * Maps one `groups.update` entry to `group:updated`, or `undefined` when it changes nothing
 * the protocol carries (an invite link, an ephemeral timer, ...).
 */
export function mapGroupUpdate(update: WaSocketEvents['groups.update'][number], context: MapContext = {}): BotEventOf<'group:updated'> | undefined {
  if (!update.id || !baileys().isJidGroup(update.id)) return undefined;
  const event: BotEventOf<'group:updated'> = { type: 'group:updated', chat: update.id };
  const subject = truncate(update.subject, MAX_NAME_LENGTH);
  if (subject !== undefined) event.subject = subject;
  const description = truncate(update.desc, MAX_TEXT_LENGTH);
  if (description !== undefined) event.description = description;
  if (typeof update.announce === 'boolean') event.announce = update.announce;
  if (typeof update.restrict === 'boolean') event.restrict = update.restrict;
  if (Object.keys(event).length === 2) return undefined;
  if (update.author) event.author = personIds(update.author, update.authorPn, context).jid;
  return event;
}

const PROTOCOL_REVOKE = 0;
const PROTOCOL_MESSAGE_EDIT = 14;

/**
 * The event an incoming reaction, edit or delete-for-everyone message becomes, built the way
 * Baileys builds the `messages.reaction` / `messages.update` it emits for it later (process-
 * message.js), so that the two map to the same event. `undefined` for any other message.
 */
export function mapDerivedEvent(
  raw: WAMessage,
  context: MapContext = {},
): BotEventOf<'reaction:received'> | BotEventOf<'message:updated'> | undefined {
  const content = baileys().normalizeMessageContent(raw.message);
  const reaction = content?.reactionMessage;
  if (reaction) return mapReaction({ key: reaction.key ?? {}, reaction: { ...reaction, key: raw.key } }, context);
  const protocol = content?.protocolMessage;
  const target = protocol?.key?.id;
  if (!protocol || !target) return undefined;
  const type = Number(protocol.type);
  if (type === PROTOCOL_REVOKE) {
    return mapMessageUpdate({ key: { ...raw.key, id: target }, update: { message: null, messageStubType: STUB_REVOKE, key: raw.key } });
  }
  if (type === PROTOCOL_MESSAGE_EDIT && protocol.editedMessage) {
    return mapMessageUpdate({ key: { ...raw.key, id: target }, update: { message: { editedMessage: { message: protocol.editedMessage } } } });
  }
  return undefined;
}
