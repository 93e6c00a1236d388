import { Sticker, StickerTypes } from 'wa-sticker-formatter';
import { createStickerEngine } from '../src/index.js';

/** The two converters under comparison, each turning input bytes into a sticker. */
export interface BenchEngines {
  ours: (input: Buffer) => Promise<Buffer>;
  anchor: (input: Buffer) => Promise<Buffer>;
  close: () => Promise<void>;
}

const metadata = { pack: 'bench pack', author: 'bench' };

/**
 * Our engine (one instance, as the worker keeps one) and wa-sticker-formatter 4.4.4 with
 * its README settings; quality 50 rather than its default 100, to be fair on size. Both
 * make a `fit`/`full` sticker (whole picture on transparent padding). wa-sticker-formatter's
 * fluent-ffmpeg finds ffmpeg through FFMPEG_PATH, which the caller sets.
 */
export function createBenchEngines(ffmpegPath: string): BenchEngines {
  const engine = createStickerEngine({ ffmpegPath });
  return {
    ours: async (input) => (await engine.toSticker(input, { ...metadata, shape: 'fit' })).data,
    anchor: (input) => new Sticker(input, { ...metadata, type: StickerTypes.FULL, quality: 50 }).toBuffer(),
    close: () => engine.close(),
  };
}
