import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStickerEngine, type StickerEngine } from './engine.js';
import { isStickerError } from './errors.js';
import { fromEnvironment, makeGif, makePng } from './test-kit/index.js';
import { checkPackRules, writeWastickers } from './wastickers.js';

let engine: StickerEngine;
let still: Buffer;
let moving: Buffer;
beforeAll(async () => {
  engine = createStickerEngine({ ...fromEnvironment(), concurrency: 1 });
  [still, moving] = await Promise.all([engine.toSticker(await makePng()).then((s) => s.data), engine.toSticker(await makeGif(64, 64, 4)).then((s) => s.data)]);
}, 60_000);
afterAll(() => engine.close());

describe('wastickers', () => {
  it('refuses static and animated stickers in one pack, and every other broken rule at once', async () => {
    expect(checkPackRules({ title: 'Mixed', author: '', stickers: [still, still, moving] })).toEqual(['static and animated stickers cannot share a pack']);
    const error: unknown = await writeWastickers({ title: ' ', author: '', stickers: [still, Buffer.from('nope')] }).catch((err: unknown) => err);
    expect(isStickerError(error) && error.code).toBe('PACK_RULES');
    expect(isStickerError(error) && (error.details as { problems: string[] }).problems).toEqual([
      'a pack holds 3 to 30 stickers, this one 2',
      'the title must be 1 to 128 characters',
      expect.stringMatching(/^sticker 2: /),
    ]);
  });

  it('gives the same bytes for the same pack (no timestamps inside)', async () => {
    const pack = { title: 'Same', author: 'Me', stickers: [still, still, still] };
    expect((await writeWastickers(pack)).equals(await writeWastickers(pack))).toBe(true);
  });
});
