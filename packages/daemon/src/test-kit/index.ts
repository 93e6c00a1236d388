/**
 * `@stickerbot/daemon/test-kit`: a fake WhatsApp behind the daemon's socket port, and
 * builders of real `WAMessage` shapes. For tests only.
 */
export {
  FAKE_DISCONNECT,
  FakeBoom,
  FakeWaSession,
  FakeWaSocket,
  createFakeWa,
  type FakeAccount,
  type FakeSendScript,
  type FakeSent,
  type FakeWa,
  type FakeWaOptions,
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
