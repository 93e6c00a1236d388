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

/** Participants of a group joined, left, or were promoted or demoted. */
export const groupParticipantsChangedEventSchema = z.object({
  type: z.literal('group:participants-changed'),
  /** The group's JID. */
  chat: jidSchema,
  /** What happened to them. */
  action: z.enum(['add', 'remove', 'promote', 'demote']),
  /** The participants concerned. */
  participants: z.array(jidSchema).max(1024),
  /** Who did it, when known. */
  author: jidSchema.optional(),
  /** The group's subject, when known. */
  subject: z.string().max(MAX_NAME_LENGTH).optional(),
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
  sessionChangedEventSchema,
]);
/** Every event the daemon journals and relays, tagged by `type`. */
export type BotEvent = z.infer<typeof botEventSchema>;
/** The `type` tags of {@link BotEvent}. */
export type BotEventType = BotEvent['type'];
/** The event of one `type`. */
export type BotEventOf<T extends BotEventType> = Extract<BotEvent, { type: T }>;

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
