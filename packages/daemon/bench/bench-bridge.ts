/**
 * `pnpm bench:bridge`: what the journaled bridge costs compared with raw Socket.IO, on the
 * same machine in the same run.
 *
 * - raw Socket.IO: a server relays each event as it comes, one emit per event (an
 *   `events:journaled` packet holding that one entry, the same JSON the daemon sends),
 *   straight to a `/worker` client over loopback WebSocket: what a bridge without a
 *   journal would do.
 * - bridge: the real daemon (`createDaemon`: SQLite journal in a temp folder, session
 *   registry, `/worker` namespace, token and protocol handshake) driven by the test kit's
 *   fake WhatsApp socket: each event is a `messages.upsert` the daemon maps, journals
 *   synchronously and pushes; the client acknowledges every 100 entries like a worker.
 *   The daemon sends a live entry alone when the connection is idle and packs the entries
 *   that queued up behind a busy connection into one packet (journal-delivery.ts).
 * - journal only: `append` and `readAfter` of the SQLite journal without any network.
 *
 * Throughput: N events emitted as fast as the driver can (100 per macrotask), timed from
 * the first emit to the last receipt; the bridge gets one message per `messages.upsert`
 * (live traffic), and a second row with 100 per upsert (how Baileys hands over an offline
 * backlog or a buffered burst). Latency: N events paced at 1,000 events/s, each measured
 * from the driver's emit (fake-socket emit for the bridge) to the client's receipt.
 * Server, driver and client share one process and one clock, so the numbers are the cost
 * of the path on one event loop; the same holds for the raw baseline. Every figure is the
 * median of `BENCH_REPEAT` runs (default 3), raw and bridge runs interleaved so that both
 * see the same moments of a shared, noisy machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PROTOCOL_VERSION,
  WORKER_NAMESPACE,
  type BotEvent,
  type JournalEntry,
  type WorkerClientToServerEvents,
  type WorkerServerToClientEvents,
} from '@stickerbot/protocol';
import type { WAMessage } from '@whiskeysockets/baileys';
import { pino } from 'pino';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { createDaemon, loadConfig, openStorage } from '@stickerbot/daemon';
import { buildTextMessage, createFakeWa } from '@stickerbot/daemon/test-kit';

type WorkerClient = ClientSocket<WorkerServerToClientEvents, WorkerClientToServerEvents>;

const SIZES = [1_000, 10_000] as const;
const PACED_RATE = 1_000;
const CHUNK = 100;
const WARM_UP = 2_000;
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3) || 3);
const SENDER = '4915100000001';

/** One path under test: emit event `i`; the client calls back with its id on receipt. */
interface Path {
  name: string;
  emit(i: number): void;
  /** Emits events [from, to) at once (one `messages.upsert` for the bridge). */
  emitBatch?(from: number, to: number): void;
  /** Prepares events [0, n) of run `run` (ids unique per run) before timing starts. */
  prepare(n: number, run: number): void;
  onReceive(listener: (id: string) => void): void;
  close(): Promise<void>;
}

interface Row {
  path: string;
  events: number;
  throughput: number;
  p50?: number;
  p99?: number;
}

let runId = 0;
const idOf = (run: number, i: number): string => `BENCH${run.toString(16).toUpperCase()}X${i.toString(16).toUpperCase()}`;

function textEvent(id: string): BotEvent {
  return {
    type: 'message:received',
    message: {
      id,
      chat: `${SENDER}@s.whatsapp.net`,
      sender: `${SENDER}@s.whatsapp.net`,
      fromMe: false,
      isGroup: false,
      pushName: 'Bench',
      timestamp: Date.now(),
      kind: 'text',
      text: '!sticker please make this into a sticker',
      backlog: false,
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Emits n events (burst or paced) and resolves with per-event latencies and the total time. */
async function drive(path: Path, n: number, pacedRate?: number, batched = false): Promise<{ seconds: number; latencies: number[] }> {
  const run = (runId += 1);
  path.prepare(n, run);
  const emittedAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  path.onReceive((id) => {
    const at = emittedAt.get(id);
    if (at === undefined) return;
    latencies.push(performance.now() - at);
    emittedAt.delete(id);
    received += 1;
    if (received === n) done();
  });
  const ids = Array.from({ length: n }, (_, i) => idOf(run, i));
  const started = performance.now();
  let next = 0;
  while (next < n) {
    const due = pacedRate === undefined ? Math.min(n, next + CHUNK) : Math.min(n, Math.floor(((performance.now() - started) / 1000) * pacedRate) + 1);
    if (batched && path.emitBatch) {
      const at = performance.now();
      for (let i = next; i < due; i += 1) emittedAt.set(ids[i] ?? '', at);
      path.emitBatch(next, due);
      next = due;
    }
    if (pacedRate === undefined) {
      for (; next < due; next += 1) {
        emittedAt.set(ids[next] ?? '', performance.now());
        path.emit(next);
      }
      await tick();
    } else if (next < due) {
      // Paced: one event per macrotask, as WhatsApp frames arrive one by one; events that
      // fell due while the process was descheduled follow each other without a timer.
      emittedAt.set(ids[next] ?? '', performance.now());
      path.emit(next);
      next += 1;
      await (next < due ? tick() : sleep(1));
    } else {
      await sleep(1);
    }
  }
  const timeout = setTimeout(() => done(), 60_000);
  await finished;
  clearTimeout(timeout);
  if (received < n) throw new Error(`${path.name}: only ${received} of ${n} events arrived within 60 s`);
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

function ackingClient(url: string, auth: Record<string, unknown>, onEntry: (entry: JournalEntry) => void): Promise<WorkerClient> {
  const client: WorkerClient = connect(url, { transports: ['websocket'], auth, reconnection: false });
  let unacked = 0;
  client.on('events:journaled', (entries) => {
    for (const entry of entries) {
      onEntry(entry);
      unacked += 1;
      if (unacked >= 100) {
        unacked = 0;
        client.emit('event:ack', { position: entry.seq });
      }
    }
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('connect_error', reject);
  });
}

async function rawPath(): Promise<Path> {
  const http = createServer();
  const io = new Server<WorkerClientToServerEvents, WorkerServerToClientEvents>(http, { transports: ['websocket'] });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const namespace = io.of(WORKER_NAMESPACE);
  let listener: (id: string) => void = () => undefined;
  let entries: JournalEntry[] = [];
  let seq = 0;
  const client = await ackingClient(`http://127.0.0.1:${port}${WORKER_NAMESPACE}`, { token: 'raw' }, (entry) => {
    if (entry.event.type === 'message:received') listener(entry.event.message.id);
  });
  return {
    name: 'raw Socket.IO',
    prepare(n, run) {
      entries = Array.from({ length: n }, (_, i) => ({ seq: 0, sessionId: 'default', ts: 0, event: textEvent(idOf(run, i)) }));
    },
    emit(i) {
      const entry = entries[i];
      if (!entry) return;
      seq += 1;
      namespace.emit('events:journaled', [{ ...entry, seq, ts: Date.now() }]);
    },
    onReceive(next) {
      listener = next;
    },
    async close() {
      client.close();
      await io.close();
    },
  };
}

async function bridgePath(dataDir: string): Promise<Path> {
  const logger = pino({ level: 'silent' });
  const wa = createFakeWa();
  const config = loadConfig({
    STICKERBOT_DATA_DIR: dataDir,
    STICKERBOT_HOST: '127.0.0.1',
    STICKERBOT_PORT: '0',
    STICKERBOT_TOKEN: 'bench-token-0123456789',
    STICKERBOT_SESSIONS: 'default',
    LOG_LEVEL: 'silent',
  });
  const daemon = createDaemon({ logger, socketFactory: wa.factory, processMetrics: false }, config);
  const address = await daemon.start();
  const session = wa.session('default');
  await session.waitForSocket();
  session.open({ jid: '15550000001', name: 'Bench' });
  for (let waited = 0; daemon.registry?.get('default')?.status !== 'CONNECTED'; waited += 10) {
    if (waited > 10_000) throw new Error(`bridge: the session did not connect (${daemon.registry?.get('default')?.status ?? 'unknown'})`);
    await sleep(10);
  }
  let listener: (id: string) => void = () => undefined;
  let messages: WAMessage[] = [];
  const client = await ackingClient(
    `http://127.0.0.1:${address.port}${WORKER_NAMESPACE}`,
    { token: daemon.token, protocol: PROTOCOL_VERSION, group: 'bench' },
    (entry) => {
      if (entry.event.type === 'message:received') listener(entry.event.message.id);
    },
  );
  return {
    name: 'bridge (journaled)',
    prepare(n, run) {
      messages = Array.from({ length: n }, (_, i) => buildTextMessage({ from: SENDER, id: idOf(run, i), pushName: 'Bench', text: '!sticker please make this into a sticker' }));
    },
    emit(i) {
      const message = messages[i];
      if (message) session.receive([message]);
    },
    emitBatch(from, to) {
      session.receive(messages.slice(from, to));
    },
    onReceive(next) {
      listener = next;
    },
    async close() {
      client.close();
      await daemon.stop();
    },
  };
}

function journalRows(dataDir: string, n: number): Row[] {
  const rows: Row[] = [];
  const raws = Array.from({ length: n }, (_, i) => buildTextMessage({ from: SENDER, id: idOf(0, i), text: '!sticker please make this into a sticker' }));
  const inputs = raws.map((raw) => ({ sessionId: 'default', event: textEvent(raw.key.id ?? ''), raw }));
  for (const batch of [1, 100]) {
    // The daemon's own storage: WAL, NORMAL, background checkpoints.
    const storage = openStorage(join(dataDir, `journal-only-${batch}`));
    try {
      const { journal } = storage;
      let started = performance.now();
      if (batch === 1) for (const input of inputs) journal.append(input);
      else for (let i = 0; i < n; i += batch) journal.appendMany(inputs.slice(i, i + batch));
      const appendSeconds = (performance.now() - started) / 1000;
      rows.push({ path: batch === 1 ? 'journal append (+ raw WAMessage)' : `journal appendMany (${batch} per transaction)`, events: n, throughput: n / appendSeconds });
      if (batch !== 1) continue;
      started = performance.now();
      let read = 0;
      for (let position = 0; ; ) {
        const entries = journal.readAfter(position, 500);
        if (entries.length === 0) break;
        read += entries.length;
        position = entries.at(-1)?.seq ?? position;
      }
      rows.push({ path: 'journal readAfter (batches of 500)', events: read, throughput: read / ((performance.now() - started) / 1000) });
    } finally {
      storage.close();
    }
  }
  return rows;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : ((sorted[(sorted.length - 1) >> 1] ?? 0) + (sorted[sorted.length >> 1] ?? 0)) / 2;
};

/** Measures every path at every size; the repeats of the paths alternate. */
async function measure(paths: readonly Path[]): Promise<Row[]> {
  for (const path of paths) await drive(path, WARM_UP);
  const rows: Row[] = [];
  for (const n of SIZES) {
    const samples = paths.map(() => ({ throughput: [] as number[], batched: [] as number[], p50: [] as number[], p99: [] as number[] }));
    for (let r = 0; r < REPEAT; r += 1) {
      for (const [i, path] of paths.entries()) {
        const sample = samples[i];
        if (!sample) continue;
        sample.throughput.push(n / (await drive(path, n)).seconds);
        if (path.emitBatch) sample.batched.push(n / (await drive(path, n, undefined, true)).seconds);
        const paced = await drive(path, n, PACED_RATE);
        sample.p50.push(percentile(paced.latencies, 50));
        sample.p99.push(percentile(paced.latencies, 99));
      }
    }
    for (const [i, path] of paths.entries()) {
      const sample = samples[i];
      if (!sample) continue;
      rows.push({ path: path.name, events: n, throughput: median(sample.throughput), p50: median(sample.p50), p99: median(sample.p99) });
      if (path.emitBatch) rows.push({ path: `${path.name}, 100 per upsert`, events: n, throughput: median(sample.batched) });
    }
  }
  return rows;
}

const fmt = (value: number | undefined, digits = 0): string =>
  value === undefined || Number.isNaN(value) ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-bench-'));
  try {
    const raw = await rawPath();
    const bridge = await bridgePath(join(dataDir, 'daemon'));
    const rows = await measure([raw, bridge]);
    await raw.close();
    await bridge.close();
    const rawRows = rows.filter((r) => r.path === raw.name);
    const bridgeRows = rows.filter((r) => r.path.startsWith(bridge.name));
    rows.push(...journalRows(dataDir, SIZES[SIZES.length - 1] ?? 10_000));

    console.log(
      `node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores; median of ${REPEAT} runs; latency paced at ${PACED_RATE.toLocaleString('en-US')} ev/s; throughput in bursts of ${CHUNK} per macrotask`,
    );
    console.log('');
    console.log('| path | events | throughput (ev/s) | p50 latency (ms) | p99 latency (ms) |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const row of rows) {
      console.log(`| ${row.path} | ${fmt(row.events)} | ${fmt(row.throughput)} | ${fmt(row.p50, 2)} | ${fmt(row.p99, 2)} |`);
    }
    console.log('');
    const big = SIZES[SIZES.length - 1];
    const rawBig = rawRows.find((r) => r.events === big);
    const bridgeBig = bridgeRows.find((r) => r.events === big && r.p99 !== undefined);
    const bridgeSmall = bridgeRows.find((r) => r.events === SIZES[0] && r.p99 !== undefined);
    const share = rawBig && bridgeBig ? (100 * bridgeBig.throughput) / rawBig.throughput : Number.NaN;
    console.log(
      `bridge: journaled ${fmt(bridgeBig?.throughput)} ev/s = ${fmt(share)}% of raw, p99 ${fmt(Math.max(bridgeSmall?.p99 ?? 0, bridgeBig?.p99 ?? 0), 2)} ms at 1k ev/s`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
