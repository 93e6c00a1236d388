import { BufferJSON } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { bufferReplacer, bufferReviver, parseWithBuffers, stringifyWithBuffers } from './buffer-json.js';

const SAMPLES: unknown[] = [
  { key: Buffer.from([1, 2, 3]), nested: { pair: { public: new Uint8Array([9, 8]), private: Buffer.alloc(0) } }, list: [Buffer.from('x')] },
  { type: 'Buffer', data: [1, 2, 255] },
  { plain: 'text', n: 1, empty: {}, nothing: null, digits: { 0: 'a' } },
  Buffer.from('top level'),
];

describe('buffer JSON', () => {
  it("writes exactly what Baileys' BufferJSON writes", () => {
    for (const sample of SAMPLES) expect(JSON.stringify(sample, bufferReplacer)).toBe(JSON.stringify(sample, BufferJSON.replacer));
  });

  it("reads back what Baileys' BufferJSON wrote, and the reverse, with Buffers where there were bytes", () => {
    for (const sample of SAMPLES) {
      const text = JSON.stringify(sample, BufferJSON.replacer);
      expect(JSON.parse(text, bufferReviver)).toEqual(JSON.parse(text, BufferJSON.reviver));
      expect(parseWithBuffers(stringifyWithBuffers(sample))).toEqual(JSON.parse(text, BufferJSON.reviver));
    }
    const revived = parseWithBuffers(stringifyWithBuffers({ key: new Uint8Array([7]) })) as { key: unknown };
    expect(Buffer.isBuffer(revived.key)).toBe(true);
    // A Uint8Array stringified without a replacer ({"0":…}) is read as bytes, as Baileys reads it.
    expect(parseWithBuffers(JSON.stringify({ k: new Uint8Array([4, 5]) }))).toEqual({ k: Buffer.from([4, 5]) });
  });
});
