/**
 * JSON with binary values, in the format of Baileys' `BufferJSON` (`{"type":"Buffer","data":
 * base64}`), which every row the stores wrote so far uses. A copy rather than Baileys' own so
 * that storing a command or a queued send does not load Baileys (about 60 MB) into a daemon
 * that has no session; `buffer-json.test.ts` holds the two to the same output.
 */

/** `JSON.stringify` replacer: Buffers, Uint8Arrays and `{ type: 'Buffer', data }` objects become base64. */
export function bufferReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { type: 'Buffer', data: Buffer.from(value).toString('base64') };
  if (isBufferObject(value)) return { type: 'Buffer', data: Buffer.from((value.data || value) as never).toString('base64') };
  return value;
}

/** `JSON.parse` reviver: what {@link bufferReplacer} wrote, and objects of numeric keys and number values, become Buffers. */
export function bufferReviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (record.type === 'Buffer' && typeof record.data === 'string') return Buffer.from(record.data, 'base64');
  const keys = Object.keys(record);
  // A Uint8Array serialised without the replacer ({"0":1,"1":2,…}), as Baileys reads it too.
  if (keys.length > 0 && keys.every((k) => !Number.isNaN(Number.parseInt(k, 10)))) {
    const values = Object.values(record);
    if (values.every((v) => typeof v === 'number')) return Buffer.from(values);
  }
  return value;
}

function isBufferObject(value: unknown): value is { type: 'Buffer'; data?: unknown } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer';
}

/** Serialises `value` with {@link bufferReplacer}. */
export function stringifyWithBuffers(value: unknown): string {
  return JSON.stringify(value, bufferReplacer);
}

/** Parses what {@link stringifyWithBuffers} wrote. */
export function parseWithBuffers(text: string): unknown {
  return JSON.parse(text, bufferReviver);
}
