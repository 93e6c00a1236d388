/**
 * The sessions bench's consumer (`pnpm bench:sessions --real N`), in its own process so that the
 * moment it stamps is not delayed by the emulator and its phones: a consumer in group `bench`
 * (beside the worker's) on the daemon's bridge that stamps each `message:received` entry with
 * `Date.now()` the moment its batch arrives (the same host clock as the bench's send stamps)
 * and reports them on stdout as JSON lines, `{"ready":true}` once connected, then
 * `{"arrivals":[[messageId, arrivedAt, journaledAt], …]}` every {@link FLUSH_EVERY_MS}.
 * Environment: BRIDGE_URL, STICKERBOT_TOKEN.
 */
import { PROTOCOL_VERSION, WORKER_NAMESPACE, type JournalEntry } from '@stickerbot/protocol';
import { io } from 'socket.io-client';

/** The worker's acknowledgement pacing (its event pump's defaults): every 50 entries or 250 ms. */
const ACK_EVERY = 50;
const ACK_DELAY_MS = 250;
/** Arrivals are written in batches: a line per entry would cost this process more than the entry. */
const FLUSH_EVERY_MS = 100;

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const socket = io(`${env('BRIDGE_URL')}${WORKER_NAMESPACE}`, {
  auth: { token: env('STICKERBOT_TOKEN'), protocol: PROTOCOL_VERSION, group: 'bench' },
  transports: ['websocket'],
});
let pending: Array<[string, number, number]> = [];
// It acknowledges as the worker does: an acknowledgement per batch would be a stored position
// (a database page) per message, which no real consumer costs the daemon.
let received = 0;
let acked = 0;
let unacked = 0;
let timer: NodeJS.Timeout | undefined;
const ack = () => {
  clearTimeout(timer);
  timer = undefined;
  unacked = 0;
  if (received > acked && socket.connected) socket.emit('event:ack', { position: received });
  acked = received;
};
socket.once('connect', () => say({ ready: true }));
socket.on('connect_error', (err) => process.stderr.write(`bench consumer: ${err.message}\n`));
socket.on('events:journaled', (batch: JournalEntry[]) => {
  const now = Date.now();
  for (const entry of batch) if (entry.event.type === 'message:received') pending.push([entry.event.message.id, now, entry.ts]);
  received = batch.at(-1)?.seq ?? received;
  unacked += batch.length;
  if (unacked >= ACK_EVERY) ack();
  else timer ??= setTimeout(ack, ACK_DELAY_MS);
});
socket.on('disconnect', () => clearTimeout(timer));
setInterval(() => {
  if (pending.length === 0) return;
  say({ arrivals: pending });
  pending = [];
}, FLUSH_EVERY_MS);
process.once('SIGTERM', () => {
  socket.close();
  process.exit(0);
});
