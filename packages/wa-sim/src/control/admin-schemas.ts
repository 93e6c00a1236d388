import { z } from 'zod';

const phone = z.string().regex(/^\d{6,15}$/, 'phone number digits, e.g. 4915112345678');

/** `POST /scan-qr`: the phone scans the QR string the client shows. */
export const scanQrBody = z.object({ qr: z.string().min(10), phone });
/** `POST /pairing-code`: the phone types the code the client shows. */
export const pairingCodeBody = z.object({ code: z.string().length(8), phone });
/** `POST /phones/:pn/text` */
export const sendTextBody = z.object({
  text: z.string(),
  /** Id of a message this phone sent or received, to quote. */
  quotedId: z.string().optional(),
  name: z.string().optional(),
  to: phone.optional(),
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
  clear: z.boolean().optional(),
});
/** `GET /receipts?messageId=` */
export const receiptsQuery = z.object({ messageId: z.string().min(1) });
export const phoneParam = phone;
