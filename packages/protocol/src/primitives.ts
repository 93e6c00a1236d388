import { z } from 'zod';
import {
  MAX_COMMAND_ID_LENGTH,
  MAX_EMOJI_LENGTH,
  MAX_GROUP_LENGTH,
  MAX_JID_LENGTH,
  MAX_MESSAGE_ID_LENGTH,
  MAX_TEXT_LENGTH,
  SESSION_ID_PATTERN,
} from './limits.js';

/** A session id: `[a-z0-9_-]{1,64}`. */
export const sessionIdSchema = z.string().regex(SESSION_ID_PATTERN, 'session id must match [a-z0-9_-]{1,64}');
/** A session id: `[a-z0-9_-]{1,64}`. */
export type SessionId = z.infer<typeof sessionIdSchema>;

/** A consumer group name (same alphabet as session ids), e.g. `bot`. */
export const groupNameSchema = z
  .string()
  .max(MAX_GROUP_LENGTH)
  .regex(/^[a-z0-9_-]+$/, 'group must match [a-z0-9_-]{1,64}');

/**
 * A client-chosen command id, unique per command the client means to perform once. The
 * daemon records the outcome under it: sending the same id again returns that outcome.
 */
export const commandIdSchema = z
  .string()
  .min(1)
  .max(MAX_COMMAND_ID_LENGTH)
  .regex(/^[\w.:-]+$/, 'command id may hold letters, digits and _ . : -');

/**
 * A WhatsApp JID, `user@server`: `123@s.whatsapp.net` (user), `123-456@g.us` (group),
 * `123@lid`, `status@broadcast`, `123@newsletter`.
 */
export const jidSchema = z
  .string()
  .max(MAX_JID_LENGTH)
  .regex(/^[^\s@]+@[a-z.]+$/, 'must be a JID such as 123@s.whatsapp.net');

/** A WhatsApp message id. */
export const messageIdSchema = z
  .string()
  .min(1)
  .max(MAX_MESSAGE_ID_LENGTH)
  .regex(/^[\w.:-]+$/, 'message id may hold letters, digits and _ . : -');

/** A phone number: digits only, country code first, no `+` (e.g. `4915123456789`). */
export const phoneSchema = z.string().regex(/^[0-9]{6,20}$/, 'phone must be 6-20 digits, country code first, no +');

/** A point in time: Unix epoch milliseconds. */
export const timestampSchema = z.number().int().nonnegative();

/** Message text or caption (at most WhatsApp's 65,536 characters). */
export const textSchema = z.string().max(MAX_TEXT_LENGTH);

/** A reaction emoji; the empty string removes an earlier reaction. */
export const emojiSchema = z.string().max(MAX_EMOJI_LENGTH);

/**
 * Binary data. Socket.IO carries `Buffer`/`Uint8Array` as binary attachments (never
 * base64); Node receives them as `Buffer`. The size cap is configuration, checked by the
 * receiver against `STICKERBOT_MAX_MEDIA_MB` (error `MEDIA_TOO_LARGE`).
 */
export const binarySchema = z
  .instanceof(Uint8Array, { message: 'must be binary (Buffer or Uint8Array)' })
  .refine((data) => data.byteLength > 0, 'must not be empty');

/** A journal position: the `seq` of the last entry a consumer group has handled (0: none yet). */
export const positionSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
