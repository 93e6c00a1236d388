/**
 * A child process standing for one worker of a group (cluster-worker-delivery.test.ts): the
 * real worker bridge client with its own SQLite progress database, whose handler takes
 * HANDLE_MS per entry and then reports the handled message as a JSON line on stdout (what a
 * SIGKILL interrupts is what was never reported). It reports `connected` once connected.
 * Environment: BRIDGE_URL, TOKEN, WORKER_NAME, DB_FILE, HANDLE_MS.
 */
import { createBridgeClient, openBotDatabase } from '@stickerbot/worker';
import { pino } from 'pino';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ ...line, worker: env('WORKER_NAME') })}\n`);
const handleMs = Number(env('HANDLE_MS'));

const db = openBotDatabase(env('DB_FILE'), 'bot');
const client = createBridgeClient({
  url: env('BRIDGE_URL'),
  token: () => env('TOKEN'),
  tokenHint: 'the test token',
  group: 'bot',
  progress: db.progress,
  log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  ackDelayMs: 50,
  backoff: { baseMs: 100, capMs: 500 },
  onConnect: () => say({ event: 'connected' }),
  async handle(entry) {
    await new Promise((resolve) => setTimeout(resolve, handleMs));
    if (entry.event.type !== 'message:received') return;
    say({ event: 'handled', seq: entry.seq, chat: entry.event.message.chat, id: entry.event.message.id });
  },
});
client.start();
process.once('SIGTERM', () => {
  void client.stop(5_000).then(() => {
    db.close();
    process.exit(0);
  });
});
