/**
 * The sticker catalogue with the real Baileys client (issue #18): a contact's phone on the
 * wa-sim emulator, the daemon with real Baileys and the worker as their own processes
 * (scripts/support/latency-stack.ts). A sticker made twice is catalogued once, an emoji tag
 * is written into the sticker and found again, and a reaction moves `!top`.
 */
import { createStickerEngine, type StickerEngine } from '@stickerbot/sticker';
import { fromEnvironment, makeJpeg, makePngWithAlpha } from '@stickerbot/sticker/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLatencyStack, type LatencyStack, type TimedPhone } from '../scripts/support/latency-stack.js';

const CONTACT = '4915200000201';

let stack: LatencyStack;
let contact: TimedPhone;
let stickers: StickerEngine;

/** Asks for `!top 2` and returns its text answer (the two stickers it sends after it are awaited too). */
async function top(): Promise<string> {
  const answer = await contact.ask((p) => p.sendText('!top 2'), 'text');
  await stack.settle();
  return answer.answer.text ?? '';
}

beforeAll(async () => {
  stickers = createStickerEngine(fromEnvironment());
  stack = await startLatencyStack();
  contact = stack.phone(CONTACT);
  stack.startWorker();
  await stack.workerConnectedAt();
}, 180_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

describe('the sticker catalogue, with the real Baileys client', () => {
  it('catalogues a picture made into a sticker twice once, finds it by the emoji written into it, and counts a reaction in !top', async () => {
    const photo = await makeJpeg(640, 480);
    const tagged = await contact.ask((p) => p.sendMedia('image', photo, { caption: '!s 😂' }), 'sticker');
    // The emoji is in the sticker's own metadata, where WhatsApp's sticker search reads it.
    expect((await stickers.info(contact.phone.downloadMedia(tagged.answer))).metadata?.emojis).toEqual(['😂']);
    await stack.settle();
    await contact.ask((p) => p.sendMedia('image', photo, { caption: '!s' }), 'sticker');
    await stack.settle();
    const circle = await makePngWithAlpha(400, 400);
    const other = await contact.ask((p) => p.sendMedia('image', circle, { caption: '!s' }), 'sticker');
    await stack.settle();

    // Both stickers of the photo are one catalogue entry, sent twice; the other one apart.
    expect(await top()).toMatch(/^Top 2 stickers:\n1\. sent 2 times\n2\. sent 1 time$/);

    const find = await contact.send((p) => p.sendText('!find 😂'));
    const found = await contact.answerTo(find, 'sticker');
    expect((await stickers.info(contact.phone.downloadMedia(found.answer))).metadata?.emojis).toEqual(['😂']);
    await stack.settle();

    // Re-sends count: `!top` sent both (3 and 2), `!find` the photo's (4). A reaction to the
    // other sticker counts one more for it.
    await contact.phone.react(other.answer.id, '👍');
    expect(await top()).toMatch(/^Top 2 stickers:\n1\. sent 4 times\n2\. sent 2 times, 1 reaction$/);
  }, 240_000);
});
