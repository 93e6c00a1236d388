import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadMediaMessage, type WAMessage } from '@whiskeysockets/baileys';
import { startPairedHarness, type PairedHarness } from './support/paired-client.js';

const BOB = '4915300000003';
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const WEBP_1X1 = Buffer.from('UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA', 'base64');

describe('media between a fake phone and a real Baileys client', () => {
  let h: PairedHarness;

  beforeAll(async () => {
    h = await startPairedHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  const download = (message: WAMessage): Promise<Buffer> =>
    downloadMediaMessage(message, 'buffer', { options: { dispatcher: h.sim.media.dispatcher } });

  it('delivers an image with caption that Baileys downloads over TLS byte for byte', async () => {
    const bob = h.sim.phone(BOB, { name: 'Bob' });
    const upsert = h.client.waitForMessage((m) => m.message?.imageMessage?.caption === '!s');
    await bob.sendMedia('image', PNG_1X1, { caption: '!s', width: 1, height: 1, mimetype: 'image/png' });
    const message = await upsert;
    expect(await download(message)).toEqual(PNG_1X1);
  });

  it('delivers a video, a GIF and a sticker that download to the original bytes', async () => {
    const bob = h.sim.phone(BOB);
    const video = randomBytes(40_000);
    const gif = randomBytes(9_000);
    const upsertVideo = h.client.waitForMessage((m) => m.message?.videoMessage?.gifPlayback === false);
    await bob.sendMedia('video', video, { seconds: 3 });
    expect(await download(await upsertVideo)).toEqual(video);
    const upsertGif = h.client.waitForMessage((m) => m.message?.videoMessage?.gifPlayback === true);
    await bob.sendMedia('gif', gif);
    expect(await download(await upsertGif)).toEqual(gif);
    const upsertSticker = h.client.waitForMessage((m) => Boolean(m.message?.stickerMessage));
    await bob.sendMedia('sticker', WEBP_1X1);
    expect(await download(await upsertSticker)).toEqual(WEBP_1X1);
  });

  it('delivers a voice note and a document that download to the original bytes', async () => {
    const bob = h.sim.phone(BOB);
    const voice = randomBytes(5_000);
    const pdf = randomBytes(12_000);
    const upsertVoice = h.client.waitForMessage((m) => m.message?.audioMessage?.ptt === true);
    await bob.sendMedia('audio', voice, { ptt: true, seconds: 2 });
    expect(await download(await upsertVoice)).toEqual(voice);
    const upsertDoc = h.client.waitForMessage((m) => m.message?.documentMessage?.fileName === 'notes.pdf');
    await bob.sendMedia('document', pdf, { fileName: 'notes.pdf', mimetype: 'application/pdf' });
    expect(await download(await upsertDoc)).toEqual(pdf);
  });

  it('verifies and decrypts a sticker the bot uploads and sends', async () => {
    const bob = h.sim.phone(BOB);
    await h.client.socket.sendMessage(bob.jid, { sticker: WEBP_1X1 });
    const received = await bob.nextMessage();
    expect(received.mediaType).toBe('sticker');
    expect(received.message.stickerMessage?.mimetype).toBe('image/webp');
    expect(bob.downloadMedia(received)).toEqual(WEBP_1X1);
  });

  it('verifies and decrypts an image and a video the bot sends', async () => {
    const bob = h.sim.phone(BOB);
    await h.client.socket.sendMessage(bob.jid, { image: PNG_1X1, caption: 'your image' });
    const image = await bob.nextMessage();
    expect(image.message.imageMessage?.caption).toBe('your image');
    expect(bob.downloadMedia(image)).toEqual(PNG_1X1);
    const clip = randomBytes(20_000);
    await h.client.socket.sendMessage(bob.jid, { video: clip, gifPlayback: true });
    const video = await bob.nextMessage();
    expect(video.message.videoMessage?.gifPlayback).toBe(true);
    expect(bob.downloadMedia(video)).toEqual(clip);
  });

  it('rejects a blob whose HMAC was tampered with', async () => {
    const bob = h.sim.phone(BOB);
    await h.client.socket.sendMessage(bob.jid, { sticker: WEBP_1X1 });
    const received = await bob.nextMessage();
    const blob = h.sim.world.media.get(received.message.stickerMessage?.directPath ?? '');
    if (!blob) throw new Error('sticker blob not stored');
    blob.writeUInt8(blob.readUInt8(blob.length - 1) ^ 0xff, blob.length - 1);
    expect(() => bob.downloadMedia(received)).toThrow(/fileEncSha256|HMAC/);
  });

  it('leaves no unhandled node and no protocol problem behind', () => {
    expect(h.sim.unhandled.map((u) => u.key)).toEqual([]);
    expect(h.sim.problems).toEqual([]);
  });
});
