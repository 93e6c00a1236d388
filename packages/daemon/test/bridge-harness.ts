/**
 * Test helpers for the bridge: Socket.IO clients over loopback with typed event maps, and
 * small waiting utilities (no timing assertions, only generous deadlines).
 */
import {
  PROTOCOL_VERSION,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
  type JournalEntry,
  type WireError,
  type WorkerClientToServerEvents,
  type WorkerServerToClientEvents,
} from '@stickerbot/protocol';
import { io, type Socket } from 'socket.io-client';

export type WorkerClient = Socket<WorkerServerToClientEvents, WorkerClientToServerEvents>;
export type DashboardClient = Socket<DashboardServerToClientEvents, DashboardClientToServerEvents>;

/** Tracks clients so a test can close them all. */
export class Clients {
  private readonly all: Socket[] = [];

  constructor(private readonly baseUrl: () => string) {}

  worker(auth: Record<string, unknown>, options: { connect?: boolean } = {}): WorkerClient {
    const socket: WorkerClient = io(`${this.baseUrl()}/worker`, {
      auth: { protocol: PROTOCOL_VERSION, ...auth },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      autoConnect: options.connect ?? true,
    });
    this.all.push(socket);
    return socket;
  }

  dashboard(auth: Record<string, unknown>): DashboardClient {
    const socket: DashboardClient = io(`${this.baseUrl()}/dashboard`, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.all.push(socket);
    return socket;
  }

  closeAll(): void {
    for (const socket of this.all.splice(0)) socket.disconnect();
  }
}

/** Resolves once the client connected; rejects with the refusal's wire error. */
export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err: Error & { data?: WireError }) => reject(err));
  });
}

/** Resolves with the wire error of a refused handshake (fails if the client connects). */
export function refusal(socket: Socket): Promise<WireError | undefined> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('expected the handshake to be refused')));
    socket.once('connect_error', (err: Error & { data?: WireError }) => resolve(err.data));
  });
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls an async probe until `accept` holds for its value, which it returns; fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Collects every journal entry a worker client receives (all `events:journaled` packets, flattened). */
export function collectEntries(socket: WorkerClient): JournalEntry[] {
  const entries: JournalEntry[] = [];
  socket.on('events:journaled', (batch) => entries.push(...batch));
  return entries;
}

/** Resolves with the next payload of a server event. */
export function next<T>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (payload: T) => resolve(payload)));
}

/** Whether the seqs are exactly `from..to`, each once, in order. */
export function contiguous(seqs: readonly number[], from: number, to: number): boolean {
  if (seqs.length !== to - from + 1) return false;
  return seqs.every((seq, index) => seq === from + index);
}
