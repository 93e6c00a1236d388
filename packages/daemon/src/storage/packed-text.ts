/**
 * Compact storage of the daemon's JSON columns (issue #16: bytes written per inbound
 * message). Every inbound message is a commit of its own: a journal row of ~600 bytes of
 * JSON (the event and the raw message, which repeat each other's id, chat and text) filled
 * a 1 KB page alone, so each append wrote a new leaf, its parent and the database header;
 * the sender's Signal session (~1.9 KB of JSON) took a page and an overflow page on every
 * decrypt. Deflated against a preset dictionary of what such JSON always contains, a text
 * message's event and raw message take ~150-250 bytes together (at least three rows a page), a Signal
 * session ~850 (one page).
 *
 * A packed value is a BLOB: one format byte (which dictionary), then raw deflate. Values
 * that would not shrink, or are too short to matter, stay TEXT, as every row written before
 * this module is: {@link unpackText} reads both, so an existing data folder needs no
 * migration (the columns' TEXT affinity keeps a BLOB as it is).
 *
 * The dictionaries are part of the file format: never edit one; add another format byte.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { StickerbotError } from '@stickerbot/protocol';

/** What a packed value holds, and so which dictionary it was deflated with. */
export type PackedKind = 'event' | 'raw' | 'auth';

// The strings every value of a kind repeats, the most frequent last (zlib reaches the end of
// a dictionary with the shortest distances).
const DICTIONARIES: Record<PackedKind, string> = {
  event:
    '{"type":"session:changed","session":{"id":"","status":"CONNECTED","account":"","autostart":true,"lastError":null,"createdAt":17,"updatedAt":17}}' +
    '{"type":"message:updated","id":"3EB0","chat":"@g.us","fromMe":true,"status":"delivered"}' +
    '"kind":"image","media":{"mimetype":"image/jpeg","fileLength":,"caption":"' +
    '{"type":"message:received","message":{"id":"3EB0","chat":"@s.whatsapp.net","sender":"@s.whatsapp.net","fromMe":false,"isGroup":false,"timestamp":17,"kind":"text","backlog":false,"pushName":"","text":"',
  raw:
    '"message":{"$proto":"' +
    '"message":{"extendedTextMessage":{"text":"","contextInfo":{"stanzaId":"","participant":"@s.whatsapp.net","quotedMessage":{"conversation":""}}}}' +
    '{"key":{"remoteJid":"@g.us","fromMe":false,"id":"3EB0","participant":"@s.whatsapp.net","participantAlt":"@lid","addressingMode":"lid"},"messageTimestamp":17,"pushName":"","broadcast":false,' +
    '{"key":{"remoteJid":"@s.whatsapp.net","remoteJidAlt":"@lid","fromMe":false,"id":"3EB0","participant":"","addressingMode":"pn"},"messageTimestamp":17,"pushName":"","broadcast":false,"message":{"conversation":"',
  auth:
    '{"noiseKey":{"private":{"type":"Buffer","data":""},"public":{"type":"Buffer","data":""}},"pairingEphemeralKeyPair":{"private":{"type":"Buffer","data":""},"public":{"type":"Buffer","data":""}},"signedIdentityKey":{"private":{"type":"Buffer","data":""},"public":{"type":"Buffer","data":""}},"signedPreKey":{"keyPair":{"private":{"type":"Buffer","data":""},"public":{"type":"Buffer","data":""}},"signature":{"type":"Buffer","data":""},"keyId":1},"registrationId":,"advSecretKey":"","processedHistoryMessages":[],"nextPreKeyId":,"firstUnuploadedPreKeyId":,"accountSyncCounter":0,"accountSettings":{"unarchiveChats":false},"registered":false,"pairingCode":,"lastPropHash":,"routingInfo":{"type":"Buffer","data":""},"me":{"id":"@s.whatsapp.net","lid":"@lid","name":""},"account":{"details":"","accountSignatureKey":"","accountSignature":"","deviceSignature":""},"signalIdentities":[{"identifier":{"name":"@lid","deviceId":0},"identifierKey":{"type":"Buffer","data":""}}],"platform":"' +
    '"pendingPreKey":{"signedKeyId":,"baseKey":"","preKeyId":},' +
    '"_chains":{"":{"chainKey":{"counter":-1},"chainType":2,"messageKeys":{}},"":{"chainKey":{"counter":,"key":""},"chainType":1,"messageKeys":{}}}' +
    '{"_sessions":{"":{"registrationId":,"currentRatchet":{"ephemeralKeyPair":{"pubKey":"","privKey":""},"lastRemoteEphemeralKey":"","previousCounter":0,"rootKey":""},"indexInfo":{"baseKey":"","baseKeyType":2,"closed":-1,"used":17,"created":17,"remoteIdentityKey":""},"_chains":{"":{"chainKey":{"counter":0,"key":""},"chainType":1,"messageKeys":{}}}}},"version":"v1"}',
};

// Format byte → kind. 0 is never a format (a BLOB starting with it is not ours).
const FORMATS: readonly PackedKind[] = ['event', 'raw', 'auth'];
const FORMAT_OF: Record<PackedKind, number> = { event: 1, raw: 2, auth: 3 };
const DICTIONARY_BYTES: Record<PackedKind, Buffer> = {
  event: Buffer.from(DICTIONARIES.event),
  raw: Buffer.from(DICTIONARIES.raw),
  auth: Buffer.from(DICTIONARIES.auth),
};

// A 4 KB window: the longest dictionary fits, and zlib's state stays small (deflate's cost
// per call is mostly setting it up). Part of the format: inflate must use the same.
const ZLIB = { windowBits: 12, memLevel: 5 } as const;

/**
 * Below this many characters a value stays TEXT: a short row shares its page anyway, and an
 * unchanged short key (Baileys sets many again) is compared as text without deflating it.
 */
export const PACK_MIN_CHARS = 100;

/** Beyond this a value stays TEXT: a media message's protobuf base64 hardly shrinks, and deflating it costs a millisecond. */
export const PACK_MAX_CHARS = 8192;

/** A stored column value: TEXT as written before packing, or a packed BLOB. */
export type StoredText = string | Buffer;

/**
 * The value to store for `text`: a packed BLOB when `text` is between {@link PACK_MIN_CHARS}
 * and {@link PACK_MAX_CHARS} characters and packing makes it smaller, else `text` itself.
 */
export function packText(text: string, kind: PackedKind): StoredText {
  if (text.length < PACK_MIN_CHARS || text.length > PACK_MAX_CHARS) return text;
  const deflated = deflateRawSync(text, { ...ZLIB, dictionary: DICTIONARY_BYTES[kind] });
  if (deflated.length + 1 >= Buffer.byteLength(text)) return text;
  const packed = Buffer.allocUnsafe(deflated.length + 1);
  packed[0] = FORMAT_OF[kind];
  deflated.copy(packed, 1);
  return packed;
}

/** The text of a stored value ({@link packText}'s BLOB, or TEXT). Throws `INTERNAL` for a BLOB that is not one. */
export function unpackText(stored: StoredText): string {
  if (typeof stored === 'string') return stored;
  const kind = FORMATS[(stored[0] ?? 0) - 1];
  if (kind === undefined) throw new StickerbotError('INTERNAL', `a stored value has an unknown format (${String(stored[0])})`);
  try {
    return inflateRawSync(stored.subarray(1), { ...ZLIB, dictionary: DICTIONARY_BYTES[kind] }).toString('utf8');
  } catch (cause) {
    throw new StickerbotError('INTERNAL', `a stored ${kind} value does not inflate`, { cause });
  }
}

/** Whether two stored values hold the same text (a packed one is compared as its bytes: packing is deterministic). */
export function sameStoredText(a: StoredText | undefined, b: StoredText): boolean {
  if (a === undefined) return false;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.equals(b);
}
