import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import {
  DisconnectReason,
  makeWASocket,
  useMultiFileAuthState,
  type BaileysEventMap,
  type UserFacingSocketConfig,
  type WAMessage,
  type WASocket,
} from '@whiskeysockets/baileys';
import { pino } from 'pino';
import type { Sim } from '../../src/index.js';

type Closed = { statusCode: number | undefined };

/** A real Baileys client pointed at the emulator, with auth in a temp folder and a reconnect loop like an app's. */
export interface TestClient extends AsyncDisposable {
  readonly authDir: string;
  readonly socket: WASocket;
  readonly closes: Closed[];
  readonly messages: WAMessage[];
  nextQr(timeoutMs?: number): Promise<string>;
  waitOpen(timeoutMs?: number): Promise<void>;
  waitClosed(timeoutMs?: number): Promise<Closed>;
  /**
   * Every status seen for a message id, from `messages.update` and from upserts: Baileys merges a
   * receipt into a still-buffered upsert instead of emitting an update (research note, pitfall 3).
   */
  statusesOf(id: string): number[];
  waitForMessage(predicate: (m: WAMessage, type: string) => boolean, timeoutMs?: number): Promise<WAMessage>;
  on<E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => void): void;
  /** Opens a new socket with the saved auth (what an app does after 515 or a drop). */
  reconnect(): Promise<void>;
  end(): Promise<void>;
}

interface ClientOptions {
  /** Reopen the socket by itself after 515 (restart required). Default true. */
  readonly restartOn515?: boolean;
  readonly authDir?: string;
  readonly extra?: Partial<UserFacingSocketConfig>;
}

const waitFor = <T>(emitter: EventEmitter, event: string, timeoutMs: number): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
    }, timeoutMs);
    const onEvent = (value: T) => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(event, onEvent);
  });

/** Creates a temp folder for auth state; remove it with {@link removeAuthDir}. */
export const makeAuthDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'wa-sim-auth-'));

export const removeAuthDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });

export async function createTestClient(sim: Sim, options: ClientOptions = {}): Promise<TestClient> {
  const authDir = options.authDir ?? (await mkdtemp(join(tmpdir(), 'wa-sim-auth-')));
  const ownsDir = options.authDir === undefined;
  const local = new EventEmitter();
  const closes: Closed[] = [];
  const messages: WAMessage[] = [];
  const statuses = new Map<string, number[]>();
  const noteStatus = (id: string | null | undefined, status: unknown) => {
    if (!id || status === undefined || status === null) return;
    statuses.set(id, [...(statuses.get(id) ?? []), Number(status)]);
  };
  const listeners: Array<(sock: WASocket) => void> = [];
  let socket: WASocket | undefined;
  let ended = false;
  let isOpen = false;

  const open = async (): Promise<void> => {
    const { state, saveCreds } = await useMultiFileAuthState(authDir);
    const sock = makeWASocket({
      waWebSocketUrl: sim.url,
      auth: state,
      logger: pino({ level: process.env.WA_SIM_CLIENT_LOG ?? 'silent' }),
      shouldSyncHistoryMessage: () => false,
      markOnlineOnConnect: false,
      connectTimeoutMs: 20_000,
      fetchAgent: sim.media.fetchAgent,
      ...options.extra,
    });
    socket = sock;
    sock.ev.on('creds.update', () => void saveCreds());
    sock.ev.on('messages.upsert', ({ messages: batch, type }) => {
      for (const m of batch) {
        messages.push(m);
        noteStatus(m.key.id, m.status);
        local.emit('message', m, type);
      }
    });
    sock.ev.on('messages.update', (updates) => {
      for (const u of updates) noteStatus(u.key.id, u.update.status);
    });
    sock.ev.on('connection.update', (update) => {
      if (sock !== socket) return;
      if (update.qr) local.emit('qr', update.qr);
      if (update.connection === 'open') {
        isOpen = true;
        local.emit('open');
      }
      if (update.connection === 'close') {
        isOpen = false;
        const error = update.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined;
        const closed = { statusCode: error?.output?.statusCode };
        closes.push(closed);
        local.emit('closed', closed);
        if (!ended && closed.statusCode === DisconnectReason.restartRequired && (options.restartOn515 ?? true)) {
          void open();
        }
      }
    });
    for (const attach of listeners) attach(sock);
  };

  await open();

  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    void socket?.end(undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (ownsDir) await removeAuthDir(authDir);
  };

  return {
    authDir,
    get socket() {
      return socket!;
    },
    closes,
    messages,
    nextQr: (timeoutMs = 20_000) => waitFor<string>(local, 'qr', timeoutMs),
    waitOpen: (timeoutMs = 30_000) => (isOpen ? Promise.resolve() : waitFor<void>(local, 'open', timeoutMs)),
    waitClosed: (timeoutMs = 30_000) => waitFor<Closed>(local, 'closed', timeoutMs),
    statusesOf: (id) => statuses.get(id) ?? [],
    waitForMessage(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          local.off('message', onMessage);
          reject(new Error('timed out waiting for a message upsert'));
        }, timeoutMs);
        const onMessage = (m: WAMessage, type: string) => {
          if (!predicate(m, type)) return;
          clearTimeout(timer);
          local.off('message', onMessage);
          resolve(m);
        };
        local.on('message', onMessage);
      });
    },
    on(event, listener) {
      const attach = (sock: WASocket) => sock.ev.on(event, listener);
      listeners.push(attach);
      if (socket) attach(socket);
    },
    async reconnect() {
      void socket?.end(undefined);
      await open();
    },
    end,
    [Symbol.asyncDispose]: end,
  };
}
