/**
 * The worker's test kit: a stand-in for the daemon's `/worker` bridge (a real Socket.IO
 * server), a fake of the worker's own command sender, and a router over a real database
 * and sticker engine. The worker's tests and `pnpm bench:worker` use it; it is not
 * exported from the package and not built (its Socket.IO server is a dev dependency).
 */
export { startFakeDaemon, type CommandResponder, type FakeDaemon, type ReceivedCommand } from './fake-daemon.js';
export { createFakeBridge, type FakeBridge, type SentCommand } from './fake-bridge.js';
export { ALICE, BOB, GROUP, OWNER, startRouterHarness, type RouterHarness } from './router-harness.js';
export { alive, captureLog, engineEnvironment, messageEvent, tempDir, waitFor } from './helpers.js';
