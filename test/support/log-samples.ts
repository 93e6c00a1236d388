// Run by test/dev-output.test.ts as a child process: logs, through the runtime's root
// logger (JSON on stdout, as the daemon and the worker under `pnpm dev`), the records that
// used to spread over many terminal lines, then exits.
import { createLogger } from '@stickerbot/runtime';

const log = createLogger({ service: 'stickerbot-worker', level: 'debug' });
log.child({ module: 'bridge' }).info({ url: 'http://127.0.0.1:7420', group: 'bot', position: 12 }, 'connected to the daemon');
log.child({ sessionId: 'main' }).warn({ err: new TypeError('socket hang up') }, 'send failed:\nretrying with the same id');
log.debug({ node: { tag: 'iq', attrs: { id: '1' }, content: Array.from({ length: 50 }, (_, i) => ({ tag: `item-${i}` })) } }, 'received a node');
log.error({ token: 'top-secret', reply: 'line one\nline two' }, 'answer');
