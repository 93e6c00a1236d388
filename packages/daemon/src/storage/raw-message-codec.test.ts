import { BufferJSON, proto, type WAMessage } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { decodeRawMessage, encodeRawMessage } from './raw-message-codec.js';

/** A received image as Baileys hands it over: the content decoded by protobufjs, extra key fields beside. */
function receivedImage(): { key: Record<string, unknown>; messageTimestamp: number; pushName: string; message: proto.Message } {
  const content = proto.Message.encode({
    imageMessage: {
      url: 'https://mmg.whatsapp.net/v/t62.7118-24/abc.enc',
      mimetype: 'image/jpeg',
      caption: '!s circle',
      mediaKey: Buffer.from('0123456789abcdef0123456789abcdef'),
      fileSha256: Buffer.alloc(32, 7),
      fileLength: 123_456,
      directPath: '/v/t62.7118-24/abc.enc',
      jpegThumbnail: Buffer.alloc(12_000, 9),
      contextInfo: { stanzaId: 'QUOTED1', participant: '491522222222@s.whatsapp.net' },
    },
  }).finish();
  return {
    key: { remoteJid: '491511111111@s.whatsapp.net', id: 'IMG1', fromMe: false, remoteJidAlt: '123456789@lid', addressingMode: 'pn' },
    messageTimestamp: 1_700_000_000,
    pushName: 'Alice',
    message: proto.Message.decode(content),
  };
}

describe('raw message codec', () => {
  it('stores a media message as protobuf and gives back the same content with its Buffers and Longs', () => {
    const raw = receivedImage();
    const text = encodeRawMessage(raw, true);
    expect(JSON.parse(text)).toMatchObject({ message: { $proto: expect.any(String) as string }, key: raw.key, pushName: 'Alice' });
    const back = decodeRawMessage(text) as ReturnType<typeof receivedImage>;
    expect(back.key).toEqual(raw.key);
    expect(back.messageTimestamp).toBe(1_700_000_000);
    const image = back.message.imageMessage!;
    expect(Buffer.isBuffer(image.mediaKey)).toBe(true);
    expect(Buffer.from(image.mediaKey!).equals(Buffer.from(raw.message.imageMessage!.mediaKey!))).toBe(true);
    expect(Buffer.from(image.jpegThumbnail!).length).toBe(12_000);
    expect(Number(image.fileLength)).toBe(123_456);
    expect(image.contextInfo?.stanzaId).toBe('QUOTED1');
    expect(proto.Message.encode(back.message).finish()).toEqual(proto.Message.encode(raw.message).finish());
  });

  it('stores other messages as JSON, and reads rows written before the codec', () => {
    const textMessage = { key: { remoteJid: '491511111111@s.whatsapp.net', id: 'T1', fromMe: false }, message: { conversation: 'hi' } };
    const stored = encodeRawMessage(textMessage, false);
    expect(JSON.parse(stored)).toEqual(textMessage);
    expect(decodeRawMessage(stored)).toEqual(textMessage);
    // Before the codec a media message was plain BufferJSON: still readable as it was.
    const old = JSON.stringify({ key: { id: 'OLD' }, message: { imageMessage: { mediaKey: Buffer.from('k') } } }, BufferJSON.replacer);
    expect(Buffer.isBuffer((decodeRawMessage(old) as { message: { imageMessage: { mediaKey: unknown } } }).message.imageMessage.mediaKey)).toBe(true);
  });

  it('keeps hand-built content (which protobuf would silently mangle) and messages without content as JSON', () => {
    const odd = { key: { id: 'ODD' }, message: { imageMessage: { width: { not: 'a number' } } } } as unknown as WAMessage;
    expect(JSON.parse(encodeRawMessage(odd, true))).toEqual(odd);
    expect(decodeRawMessage(encodeRawMessage(odd, true))).toEqual(odd);
    const stub = { key: { id: 'STUB' }, message: null, messageStubType: 1 };
    expect(decodeRawMessage(encodeRawMessage(stub, true))).toEqual(stub);
  });

  it('refuses text that is not a stored message instead of handing it on untyped', () => {
    expect(() => decodeRawMessage('{"n":1}')).toThrow(/not a message/);
    expect(() => decodeRawMessage('{"key":null}')).toThrow(/not a message/);
    expect(() => decodeRawMessage('{"key":')).toThrow(SyntaxError);
    expect(() => decodeRawMessage(JSON.stringify({ key: { id: 'P' }, message: { $proto: Buffer.from([0xff, 0xff, 0xff]).toString('base64') } }))).toThrow();
  });
});
