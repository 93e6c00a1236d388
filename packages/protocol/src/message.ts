import { z } from 'zod';
import { MAX_NAME_LENGTH } from './limits.js';
import { jidSchema, messageIdSchema, textSchema, timestampSchema } from './primitives.js';

/** What an incoming message is. `gif` is a video WhatsApp plays as a looping GIF. */
export const MESSAGE_KINDS = [
  'text',
  'image',
  'video',
  'gif',
  'sticker',
  'audio',
  'document',
  'location',
  'contact',
  'poll',
  'other',
] as const;

/** Zod schema of a {@link MessageKind}. */
export const messageKindSchema = z.enum(MESSAGE_KINDS);
/** What an incoming message is (see {@link MESSAGE_KINDS}). */
export type MessageKind = z.infer<typeof messageKindSchema>;

/** Kinds whose message carries downloadable media. */
export const MEDIA_KINDS = ['image', 'video', 'gif', 'sticker', 'audio', 'document'] as const satisfies readonly MessageKind[];

/** Describes the media attached to a message, as declared by the sender (before download). */
export const mediaSchema = z.object({
  /** MIME type, e.g. `image/jpeg`, `video/mp4`, `image/webp`. */
  mimetype: z.string().min(1).max(255),
  /** Declared size in bytes. */
  size: z.number().int().nonnegative(),
  /** Duration in seconds (video, GIF, audio). */
  durationS: z.number().nonnegative().optional(),
  /** Width in pixels (image, video, sticker). */
  width: z.number().int().nonnegative().optional(),
  /** Height in pixels (image, video, sticker). */
  height: z.number().int().nonnegative().optional(),
  /** Whether a sticker is animated. */
  animated: z.boolean().optional(),
  /** File name (documents). */
  fileName: z.string().max(MAX_NAME_LENGTH).optional(),
});
/** Media attached to a message, as declared by the sender. */
export type Media = z.infer<typeof mediaSchema>;

/** An incoming (or own, `fromMe`) WhatsApp message, mapped from Baileys' `WAMessage` by the daemon. */
export const messageSchema = z.object({
  /** WhatsApp message id; commands refer to the message by it. */
  id: messageIdSchema,
  /** The chat: the contact's JID in a private chat, the group's JID in a group. */
  chat: jidSchema,
  /**
   * Who wrote it: the contact, or the participant in a group. A phone-number JID
   * (`…@s.whatsapp.net`) whenever the daemon knows the number, also when WhatsApp addressed
   * the sender by LID (from the message key's `participantAlt`/`remoteJidAlt`, else from the
   * LID mapping Baileys stores); the LID itself only when the number is unknown.
   */
  sender: jidSchema,
  /**
   * The sender's LID (`…@lid`) when WhatsApp addressed them by it. Group metadata of a
   * LID-addressed group lists members by LID too: match a member by `sender` or `senderLid`.
   */
  senderLid: jidSchema.optional(),
  /** Whether this session's own account sent it. */
  fromMe: z.boolean(),
  /** Whether the chat is a group. */
  isGroup: z.boolean(),
  /** The sender's push name, if WhatsApp sent one. */
  pushName: z.string().max(MAX_NAME_LENGTH).optional(),
  /** When the sender sent it (epoch ms, from WhatsApp's timestamp). */
  timestamp: timestampSchema,
  /** What kind of message it is. */
  kind: messageKindSchema,
  /** The text of a text message, or the caption of a media message. */
  text: textSchema.optional(),
  /** Id of the message this one quotes (replies to). */
  quotedId: messageIdSchema.optional(),
  /** Kind of the quoted message, when it quotes one. */
  quotedKind: messageKindSchema.optional(),
  /** The attached media, for media kinds. */
  media: mediaSchema.optional(),
  /**
   * Whether WhatsApp queued it while the daemon was offline (Baileys `append`, not
   * `notify`). The worker ignores backlog commands older than `STICKERBOT_BACKLOG_MAX_AGE_S`.
   */
  backlog: z.boolean(),
});
/** An incoming WhatsApp message. */
export type Message = z.infer<typeof messageSchema>;
