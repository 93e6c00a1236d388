import { z } from 'zod';
import { MAX_NAME_LENGTH } from './limits.js';
import { messageSchema } from './message.js';
import {
  emojiSchema,
  jidSchema,
  messageIdSchema,
  sessionIdSchema,
  textSchema,
  timestampSchema,
} from './primitives.js';
import { sessionSchema } from './session.js';

/** A new message arrived (or one this account sent from another device). */
export const messageReceivedEventSchema = z.object({
  type: z.literal('message:received'),
  /** The message. */
  message: messageSchema,
});

/** Delivery states of an outgoing message, in order. */
export const RECEIPT_STATUSES = ['pending', 'server', 'delivered', 'read', 'played'] as const;

/** A known message changed: a receipt, an edit or a delete for everyone. */
export const messageUpdatedEventSchema = z.object({
  type: z.literal('message:updated'),
  /** Id of the message that changed. */
  id: messageIdSchema,
  /** Its chat. */
  chat: jidSchema,
  /** Whether the message is this account's own. */
  fromMe: z.boolean(),
  /** New delivery state (receipts). */
  status: z.enum(RECEIPT_STATUSES).optional(),
  /** New text (edits). */
  editedText: textSchema.optional(),
  /** Whether it was deleted for everyone. */
  deleted: z.boolean().optional(),
});

/** Someone reacted to a message (an empty `emoji` removes their reaction). */
export const reactionReceivedEventSchema = z.object({
  type: z.literal('reaction:received'),
  /** Id of the message reacted to. */
  messageId: messageIdSchema,
  /** Its chat. */
  chat: jidSchema,
  /** Who reacted. */
  sender: jidSchema,
  /** The emoji; empty when the reaction was removed. */
  emoji: emojiSchema,
  /** When (epoch ms). */
  timestamp: timestampSchema,
});

/** What happened to the participants of a `group:participants-changed`. */
export const GROUP_PARTICIPANT_ACTIONS = ['add', 'remove', 'promote', 'demote'] as const;

/**
 * Participants of a group joined (`add`), left or were removed (`remove`), or were made or
 * unmade admins (`promote`, `demote`). The daemon's group metadata (`group:metadata`) is
 * already updated when this arrives.
 */
export const groupParticipantsChangedEventSchema = z.object({
  type: z.literal('group:participants-changed'),
  /** The group's JID. */
  chat: jidSchema,
  /** What happened to them. */
  action: z.enum(GROUP_PARTICIPANT_ACTIONS),
  /** The participants concerned: phone-number JIDs when known, else LIDs (as `Message.sender`). */
  participants: z.array(jidSchema).max(1024),
  /** Who did it, when known (absent when a member left by themselves). */
  author: jidSchema.optional(),
  /** The group's subject, when the daemon knows it. */
  subject: z.string().max(MAX_NAME_LENGTH).optional(),
  /**
   * Whether this session's own account is among `participants`. With `remove`: the bot
   * left or was removed; it gets no more messages from the group, and the daemon dropped
   * the group's metadata. With `add`: the bot was added (or re-added).
   */
  includesSelf: z.boolean().optional(),
});

/**
 * A group's settings changed: its subject, description, or who may write or edit it. Only
 * the fields that changed are present. The daemon's group metadata is already updated.
 */
export const groupUpdatedEventSchema = z.object({
  type: z.literal('group:updated'),
  /** The group's JID. */
  chat: jidSchema,
  /** The new subject (group name). */
  subject: z.string().max(MAX_NAME_LENGTH).optional(),
  /** The new description (empty when it was removed). */
  description: textSchema.optional(),
  /** Whether only admins may send messages now (WhatsApp's "announcement" mode). */
  announce: z.boolean().optional(),
  /** Whether only admins may edit the group's settings now. */
  restrict: z.boolean().optional(),
  /** Who changed it, when known. */
  author: jidSchema.optional(),
});

/** A session changed state (also journaled, so a worker sees connects and disconnects in order). */
export const sessionChangedEventSchema = z.object({
  type: z.literal('session:changed'),
  /** The session after the change. */
  session: sessionSchema,
});

/** Every event the daemon journals and relays, tagged by `type`. */
export const botEventSchema = z.discriminatedUnion('type', [
  messageReceivedEventSchema,
  messageUpdatedEventSchema,
  reactionReceivedEventSchema,
  groupParticipantsChangedEventSchema,
  groupUpdatedEventSchema,
  sessionChangedEventSchema,
]);
/** Every event the daemon journals and relays, tagged by `type`. */
export type BotEvent = z.infer<typeof botEventSchema>;
/** The `type` tags of {@link BotEvent}. */
export type BotEventType = BotEvent['type'];
/** The event of one `type`. */
export type BotEventOf<T extends BotEventType> = Extract<BotEvent, { type: T }>;

/**
 * The chat an event belongs to; `undefined` for a session event. One chat's events keep their
 * order (the worker's lanes, the cluster journal's partitions); different chats' need not.
 */
export function chatOfEvent(event: BotEvent): string | undefined {
  switch (event.type) {
    case 'message:received':
      return event.message.chat;
    case 'session:changed':
      return undefined;
    default:
      return event.chat;
  }
}

/** One journal entry as delivered to workers (inside `events:journaled`). */
export const journalEntrySchema = z.object({
  /** Position in the journal: strictly increasing, never reused, starts at 1. */
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** The session the event belongs to. */
  sessionId: sessionIdSchema,
  /** When the daemon journaled it (epoch ms). */
  ts: timestampSchema,
  /** The event. */
  event: botEventSchema,
});
/** One journal entry as delivered to workers. */
export type JournalEntry = z.infer<typeof journalEntrySchema>;
