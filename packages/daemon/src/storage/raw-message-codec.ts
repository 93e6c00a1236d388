/**
 * How the journal stores a raw Baileys `WAMessage` (column `journal.raw`), and reads it back.
 *
 * JSON with `BufferJSON.replacer`, as Baileys' own auth stores do. A decoded message's
 * content (`message`, a protobufjs instance) would serialise through its `toJSON`, which
 * turns every bytes field into base64 in JavaScript: about 180 µs for an image with its
 * usual 12 KB thumbnail, inside the ack-before-emit window, and the content comes back
 * with strings where Baileys had Buffers, enums and Longs. So the content of a media
 * message is stored as its protobuf encoding instead (`{"$proto": base64}`: ~70 µs, and it
 * decodes to the same `proto.Message`); text stays plain JSON, where that is faster (a few
 * µs either way). Rows written before this codec, and hand-built content, are plain JSON,
 * which `decodeRawMessage` reads as before. Decoding is the one place a stored row becomes a
 * typed `WAMessage`: every reader of the journal gets that type, or an error.
 */
import type { WAMessage } from '@whiskeysockets/baileys';
import { baileys } from './baileys-lib.js';
import { bufferReplacer, bufferReviver } from './buffer-json.js';

const PROTO = '$proto';

/**
 * Serialises a raw message. With `asProto` (media messages), content that is a real
 * `proto.Message` (what Baileys decodes and builds) is stored as its protobuf bytes; a
 * hand-built object (tests, fakes) stays JSON, since protobufjs would encode a field of
 * the wrong type without a word.
 */
export function encodeRawMessage(raw: WAMessage, asProto: boolean): string {
  const { proto } = baileys();
  if (asProto && raw.message instanceof proto.Message) {
    const { message, ...rest } = raw;
    const bytes = proto.Message.encode(message).finish();
    const content = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    return JSON.stringify({ ...rest, message: { [PROTO]: content } }, bufferReplacer);
  }
  return JSON.stringify(raw, bufferReplacer);
}

/** What every stored message has and every reader relies on: a key object. */
function isWaMessage(value: unknown): value is WAMessage {
  return typeof value === 'object' && value !== null && 'key' in value && typeof value.key === 'object' && value.key !== null;
}

/**
 * Reads back what {@link encodeRawMessage} stored (or a row written before it). Throws when
 * the text is not a stored message (not JSON, no key, protobuf content that does not decode).
 */
export function decodeRawMessage(text: string): WAMessage {
  const raw = JSON.parse(text, bufferReviver) as unknown;
  if (!isWaMessage(raw)) throw new TypeError('the stored JSON is not a message (it has no key)');
  const message = raw.message as Record<string, unknown> | null | undefined;
  const content = message?.[PROTO];
  if (typeof content !== 'string') return raw;
  return { ...raw, message: baileys().proto.Message.decode(Buffer.from(content, 'base64')) };
}
