/**
 * `@stickerbot/daemon/test-kit`: a fake WhatsApp behind the daemon's socket port, and
 * builders of real `WAMessage` shapes. For tests only.
 */
export { FakeWaSession, createFakeWa, type FakeWa, type FakeWaOptions } from './fake-wa-session.js';
export {
  FAKE_DISCONNECT,
  FakeBoom,
  FakeWaSocket,
  type FakeAccount,
  type FakeDelayableCall,
  type FakeSendScript,
  type FakeSent,
} from './fake-wa-socket.js';
export {
  buildImageMessage,
  buildStickerMessage,
  buildTextMessage,
  buildVideoMessage,
  fakeMessageId,
  toJid,
  type MediaBase,
  type MessageBase,
} from './wa-messages.js';
export { decodeQrBlock, findQrBlocks, readQrTexts } from './qr-text.js';
export { startRedisServer, type RedisServerOptions, type TestRedisServer } from './redis-server.js';
