import { z } from 'zod';

const phone = z.string().regex(/^\d{6,15}$/, 'phone number digits, e.g. 4915112345678');

/** `POST /scan-qr`: the phone scans the QR string the client shows. */
export const scanQrBody = z.object({ qr: z.string().min(10), phone });
/** `POST /pairing-code`: the phone types the code the client shows. */
export const pairingCodeBody = z.object({ code: z.string().length(8), phone });
/** Where a phone's message goes besides the bot: a group, or the bot from the phone's LID. */
const addressing = {
  /** Group JID (`…@g.us`) or id: send to the group (the phone must be a member). */
  group: z.string().min(1).optional(),
  /** 1:1 only: send from the phone's LID with `sender_pn` alongside. */
  fromLid: z.boolean().optional(),
};
/** `POST /phones/:pn/text` */
export const sendTextBody = z.object({
  text: z.string(),
  /** Id of a message this phone sent or received, to quote. */
  quotedId: z.string().optional(),
  /** Phone numbers to mention (`contextInfo.mentionedJid`). */
  mentions: z.array(phone).optional(),
  name: z.string().optional(),
  to: phone.optional(),
  ...addressing,
});
/** `POST /phones/:pn/media`; `data` is base64. */
export const sendMediaBody = z.object({
  kind: z.enum(['image', 'video', 'gif', 'sticker', 'audio', 'document']),
  data: z.string().min(1),
  caption: z.string().optional(),
  mimetype: z.string().optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  seconds: z.number().int().nonnegative().optional(),
  animated: z.boolean().optional(),
  fileName: z.string().optional(),
  ptt: z.boolean().optional(),
  name: z.string().optional(),
  to: phone.optional(),
  ...addressing,
});
/** `POST /phones/:pn/react` */
export const reactBody = z.object({ messageId: z.string().min(1), emoji: z.string(), to: phone.optional() });
/** `POST /phones/:pn/edit`: the phone edits a message it sent. */
export const editBody = z.object({ messageId: z.string().min(1), text: z.string(), to: phone.optional() });
/** `POST /phones/:pn/revoke`: the phone deletes a message it sent, for everyone. */
export const revokeBody = z.object({ messageId: z.string().min(1), to: phone.optional() });
/** `POST /phones/:pn/read` */
export const readBody = z.object({ messageIds: z.array(z.string().min(1)).min(1), to: phone.optional() });
/** `POST /kick` */
export const kickBody = z.object({
  phone,
  deviceId: z.number().int().positive(),
  mode: z.enum(['restart', 'close', 'drop']).default('restart'),
});
/** `POST /unlink` */
export const unlinkBody = z.object({ phone, deviceId: z.number().int().positive() });
/** `POST /faults` */
export const faultsBody = z.object({
  failLogins: z.object({ reason: z.number().int(), count: z.number().int().positive().default(1) }).optional(),
  rejectNextMessage: z.number().int().optional(),
  blackhole: z.object({ phone, deviceId: z.number().int().positive() }).optional(),
  withholdHistorySync: z.boolean().optional(),
  withholdSenderKey: phone.optional(),
  loseSenderKey: phone.optional(),
  clear: z.boolean().optional(),
});
/** `POST /groups`: a group of fake phones and/or the bot; the creator is its super-admin. */
export const createGroupBody = z.object({
  subject: z.string(),
  creator: phone,
  members: z.array(phone),
  admins: z.array(phone).optional(),
  addressingMode: z.enum(['lid', 'pn']).optional(),
});
/** `POST /groups/:jid/participants`: `by` (a member) changes the members; `leave` takes only `by`. */
export const participantsBody = z.object({
  by: phone,
  action: z.enum(['add', 'remove', 'promote', 'demote', 'leave']),
  phones: z.array(phone).default([]),
});
/** `POST /groups/:jid/subject` */
export const subjectBody = z.object({ by: phone, subject: z.string() });
/** `GET /receipts?messageId=` */
export const receiptsQuery = z.object({ messageId: z.string().min(1) });
export const phoneParam = phone;
/** `POST /phones/:pn/provision`: sizes of a realistic account (see `sim.provisionAccount`). */
export const provisionBody = z
  .object({
    contacts: z.number().int().min(0).max(10_000),
    groups: z.number().int().min(0).max(1000),
    groupSize: z.number().int().min(2).max(1024),
    historyMessages: z.number().int().min(0).max(100_000),
    contactPool: z.number().int().min(1).max(1_000_000),
  })
  .partial()
  .strict();
