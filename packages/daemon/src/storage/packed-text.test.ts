import { StickerbotError } from '@stickerbot/protocol';
import { describe, expect, it } from 'vitest';
import { PACK_MAX_CHARS, PACK_MIN_CHARS, packText, sameStoredText, unpackText } from './packed-text.js';

const event = JSON.stringify({
  type: 'message:received',
  message: {
    id: '3EB0086C14C5ED66D0C43C',
    chat: '491700000002@s.whatsapp.net',
    sender: '491700000002@s.whatsapp.net',
    fromMe: false,
    isGroup: false,
    timestamp: 1_796_172_380_000,
    kind: 'text',
    backlog: false,
    pushName: 'Contact 0002',
    text: 'see you at the usual place at eight',
  },
});

describe('packed text', () => {
  it('packs a text event to well under half its size and gives back the same text', () => {
    const packed = packText(event, 'event');
    expect(Buffer.isBuffer(packed)).toBe(true);
    expect(packed.length).toBeLessThan(event.length / 2);
    expect(unpackText(packed)).toBe(event);
  });

  it('round-trips every kind, non-ASCII text included', () => {
    const text = `${event.slice(0, -3)}ünïcödé 👍"}}`;
    for (const kind of ['event', 'raw', 'auth'] as const) expect(unpackText(packText(text, kind))).toBe(text);
  });

  it('keeps short and long values as text, and reads text as itself', () => {
    const short = 'x'.repeat(PACK_MIN_CHARS - 1);
    const long = 'y'.repeat(PACK_MAX_CHARS + 1);
    expect(packText(short, 'auth')).toBe(short);
    expect(packText(long, 'auth')).toBe(long);
    expect(unpackText('{"a":1}')).toBe('{"a":1}');
  });

  it('packs the same text to the same bytes (an unchanged value compares equal as stored)', () => {
    expect(sameStoredText(packText(event, 'event'), packText(event, 'event'))).toBe(true);
    expect(sameStoredText(packText(event, 'event'), packText(event.replace('eight', 'nine'), 'event'))).toBe(false);
    expect(sameStoredText(undefined, packText(event, 'event'))).toBe(false);
    expect(sameStoredText(event, packText(event, 'event'))).toBe(false);
  });

  it('refuses a BLOB of an unknown format or one that does not inflate with a typed error', () => {
    const packed = packText(event, 'event') as Buffer;
    const unknown = Buffer.from(packed);
    unknown[0] = 9;
    expect(() => unpackText(unknown)).toThrow(StickerbotError);
    expect(() => unpackText(unknown)).toThrow(/unknown format/);
    const truncated = packed.subarray(0, 6);
    expect(() => unpackText(truncated)).toThrow(expect.objectContaining({ code: 'INTERNAL' }) as Error);
  });
});
