import { z } from 'zod';
import { MAX_LOOKUP_BATCH, MAX_NAME_LENGTH, MAX_READ_BATCH, MAX_TEXT_LENGTH } from './limits.js';
import {
  binarySchema,
  commandIdSchema,
  emojiSchema,
  jidSchema,
  messageIdSchema,
  phoneSchema,
  sessionIdSchema,
  textSchema,
  timestampSchema,
} from './primitives.js';
import { sessionSchema } from './session.js';

/** Fields every worker command carries. */
const commandBase = {
  /** Client-chosen id; a repeated id returns the recorded result instead of acting again. */
  id: commandIdSchema,
};

/** Fields of every command that acts on one session. */
const sessionCommandBase = {
  ...commandBase,
  /** The session to act through. */
  sessionId: sessionIdSchema,
};

/** A text message (`mentions` are JIDs tagged in the text). */
export const textContentSchema = z.object({
  type: z.literal('text'),
  text: textSchema.min(1),
  mentions: z.array(jidSchema).max(256).optional(),
});

/** An image, with an optional caption. */
export const imageContentSchema = z.object({
  type: z.literal('image'),
  data: binarySchema,
  /** Defaults to `image/jpeg`. */
  mimetype: z.string().max(255).optional(),
  caption: textSchema.optional(),
});

/** A video, with an optional caption; `gifPlayback` makes WhatsApp show it as a looping GIF. */
export const videoContentSchema = z.object({
  type: z.literal('video'),
  data: binarySchema,
  /** Defaults to `video/mp4`. */
  mimetype: z.string().max(255).optional(),
  caption: textSchema.optional(),
  gifPlayback: z.boolean().optional(),
});

/** A sticker: WebP bytes as made by `@stickerbot/sticker`. */
export const stickerContentSchema = z.object({
  type: z.literal('sticker'),
  data: binarySchema,
  /** Whether the WebP is animated. */
  animated: z.boolean().optional(),
});

/** A reaction to a message; the empty emoji removes this account's reaction. */
export const reactionContentSchema = z.object({
  type: z.literal('reaction'),
  /** The message reacted to (in `chat`). */
  messageId: messageIdSchema,
  /** Whether the message reacted to is this account's own. */
  fromMe: z.boolean().optional(),
  /** Who wrote the message reacted to, in groups. */
  participant: jidSchema.optional(),
  emoji: emojiSchema,
});

/** What `message:send` sends, tagged by `type`. */
export const outgoingContentSchema = z.discriminatedUnion('type', [
  textContentSchema,
  imageContentSchema,
  videoContentSchema,
  stickerContentSchema,
  reactionContentSchema,
]);
/** What `message:send` sends. */
export type OutgoingContent = z.infer<typeof outgoingContentSchema>;

/** A member of a group. */
export const groupParticipantSchema = z.object({
  /** The member: a phone-number JID when known, else their LID (as `Message.sender`). */
  jid: jidSchema,
  /** The member's LID, when the group addresses members by LID. */
  lid: jidSchema.optional(),
  /** `admin`, `superadmin`, or absent for a plain member. */
  admin: z.enum(['admin', 'superadmin']).optional(),
});

/**
 * Every command a worker can send on `/worker`, with the schema of its arguments and of
 * its result. The Socket.IO event map, the daemon's validation and the worker's typed
 * command client are all derived from this one table.
 */
export const WORKER_COMMANDS = {
  /**
   * Sends a text, image, video, sticker or reaction to a chat, optionally quoting a
   * journaled message. Goes through the session's paced, persistent outbound queue.
   */
  'message:send': {
    args: z.object({
      ...sessionCommandBase,
      /** The chat to send to. */
      chat: jidSchema,
      content: outgoingContentSchema,
      /** A journaled message to quote (reply to). */
      quotedId: messageIdSchema.optional(),
    }),
    result: z.object({
      /** The WhatsApp id of the sent message. */
      messageId: messageIdSchema,
      /** When it was sent (epoch ms). */
      timestamp: timestampSchema,
    }),
  },
  /** Downloads and decrypts the media of a journaled message (refused above the media cap). */
  'media:download': {
    args: z.object({
      ...sessionCommandBase,
      /** A journaled message with media. */
      messageId: messageIdSchema,
      /**
       * A journaled message that quotes `messageId`. When `messageId` itself is not in the
       * journal (sent before the bot joined the group, or pruned since), its media is taken
       * from the copy WhatsApp embeds in the quote.
       */
      quotedBy: messageIdSchema.optional(),
    }),
    result: z.object({
      data: binarySchema,
      mimetype: z.string().max(255),
      /** Size in bytes. */
      size: z.number().int().positive(),
    }),
  },
  /** Marks messages of one chat as read (blue ticks). */
  'message:read': {
    args: z.object({
      ...sessionCommandBase,
      chat: jidSchema,
      messageIds: z.array(messageIdSchema).min(1).max(MAX_READ_BATCH),
    }),
    result: z.object({
      /** How many were marked. */
      count: z.number().int().nonnegative(),
    }),
  },
  /** Sends a presence: online/offline, or typing/recording/paused in a chat. */
  'presence:send': {
    args: z.object({
      ...sessionCommandBase,
      presence: z.enum(['available', 'unavailable', 'composing', 'recording', 'paused']),
      /** Required for `composing`, `recording` and `paused`. */
      chat: jidSchema.optional(),
    }),
    result: z.object({}),
  },
  /** Asks WhatsApp which phone numbers have an account. */
  'contact:lookup': {
    args: z.object({
      ...sessionCommandBase,
      phones: z.array(phoneSchema).min(1).max(MAX_LOOKUP_BATCH),
    }),
    result: z.object({
      contacts: z.array(
        z.object({
          phone: phoneSchema,
          /** Whether the number has a WhatsApp account. */
          exists: z.boolean(),
          /** The account's JID when it exists. */
          jid: jidSchema.optional(),
        }),
      ),
    }),
  },
  /**
   * A group's subject, description, settings and participants with their admin rights.
   * Served from the daemon's per-session cache, which is filled from WhatsApp on first need
   * and kept current by participant and settings changes.
   */
  'group:metadata': {
    args: z.object({
      ...sessionCommandBase,
      /** The group's JID (`…@g.us`). */
      chat: jidSchema,
    }),
    result: z.object({
      jid: jidSchema,
      subject: z.string().max(MAX_NAME_LENGTH),
      description: z.string().max(MAX_TEXT_LENGTH).optional(),
      owner: jidSchema.optional(),
      /** When the group was created (epoch ms). */
      createdAt: timestampSchema.optional(),
      /** Whether only admins may send messages. */
      announce: z.boolean().optional(),
      /** Whether only admins may edit the group's settings. */
      restrict: z.boolean().optional(),
      participants: z.array(groupParticipantSchema),
    }),
  },
  /** Lists the daemon's sessions and their states. */
  'session:list': {
    args: z.object(commandBase),
    result: z.object({ sessions: z.array(sessionSchema) }),
  },
  /** The daemon's own state: protocol, start time and clock (the worker's `ping` uses it). */
  'daemon:status': {
    args: z.object(commandBase),
    result: z.object({
      protocol: z.number().int(),
      /** When the daemon process started (epoch ms). */
      startedAt: timestampSchema,
      /** The daemon's clock when it answered (epoch ms). */
      now: timestampSchema,
    }),
  },
} as const satisfies Record<string, { args: z.ZodObject; result: z.ZodType }>;

/** The name of a worker command, e.g. `message:send`. */
export type WorkerCommandName = keyof typeof WORKER_COMMANDS;
/** The arguments of worker command `N`. */
export type WorkerCommandArgs<N extends WorkerCommandName> = z.infer<(typeof WORKER_COMMANDS)[N]['args']>;
/** The success value of worker command `N`. */
export type WorkerCommandResult<N extends WorkerCommandName> = z.infer<(typeof WORKER_COMMANDS)[N]['result']>;

/** All worker command names. */
export const WORKER_COMMAND_NAMES = Object.keys(WORKER_COMMANDS) as WorkerCommandName[];

/** Whether `name` is a worker command. */
export function isWorkerCommandName(name: string): name is WorkerCommandName {
  return Object.hasOwn(WORKER_COMMANDS, name);
}
