/**
 * `@stickerbot/sticker/test-kit`: sample media made in code, for tests, benchmarks and the
 * demo of any package. Not part of the engine.
 */
export {
  corruptJpeg,
  ffmpegToBuffer,
  fromEnvironment,
  makeAnimatedWebp,
  makeGif,
  makeJpeg,
  makeMp4,
  makePng,
  makePngWithAlpha,
  makeVideo,
  makeVp9AlphaWebm,
  testFfmpeg,
} from './sample-media.js';
