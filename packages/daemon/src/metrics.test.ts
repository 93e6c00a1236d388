import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotEvent } from '@stickerbot/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandMetricsSink } from './bridge/command-executor.js';
import { createMetrics, readResidentMemory } from './metrics.js';
import { openStorage, type Storage } from './storage/index.js';
import type { WorkerNamespaceMetrics } from './bridge/worker-namespace.js';

let dir: string;
let storage: Storage | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stickerbot-metrics-'));
});

afterEach(() => {
  storage?.close();
  storage = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const reaction: BotEvent = {
  type: 'reaction:received',
  messageId: 'ABC',
  chat: '491511111111@s.whatsapp.net',
  sender: '491522222222@s.whatsapp.net',
  emoji: '👍',
  timestamp: 1,
};

function line(text: string, prefix: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(prefix));
}

describe('daemon metrics', () => {
  it('exposes every daemon metric in the Prometheus text format with process metrics', async () => {
    const metrics = createMetrics();
    const text = await metrics.metrics();
    expect(metrics.contentType).toMatch(/^text\/plain/);
    for (const name of [
      'stickerbot_sessions',
      'stickerbot_events_journaled_total',
      'stickerbot_events_delivered_total',
      'stickerbot_journal_lag',
      'stickerbot_command_duration_seconds',
      'stickerbot_reconnects_total',
      'stickerbot_memory_bytes',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(line(text, 'stickerbot_sessions{state="QR_REQUIRED"}')).toBe('stickerbot_sessions{state="QR_REQUIRED"} 0');
  });

  it('keeps two daemons in one process apart (no global registry)', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.reconnect('connectionLost');
    expect(await a.metrics()).toContain('stickerbot_reconnects_total{reason="connectionLost"} 1');
    expect(await b.metrics()).not.toContain('reason="connectionLost"');
  });

  it('counts journaled, delivered, reconnects and command latency by their labels', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.journaled({ seq: 1, sessionId: 'default', event: reaction });
    metrics.journaled({ seq: 2, sessionId: 'default', event: reaction });
    metrics.eventsDelivered(5, 'bot');
    metrics.eventsDelivered(0, 'bot');
    metrics.eventsDelivered(1);
    metrics.reconnect('restartRequired');
    metrics.observeCommand('message:send', 'ok', 0.2);
    metrics.observeCommand('message:send', 'TIMEOUT', 30);
    const text = await metrics.metrics();
    expect(text).toContain('stickerbot_events_journaled_total{session="default",type="reaction:received"} 2');
    expect(text).toContain('stickerbot_events_delivered_total{group="bot"} 5');
    expect(text).toContain('stickerbot_events_delivered_total{group="unknown"} 1');
    expect(text).toContain('stickerbot_reconnects_total{reason="restartRequired"} 1');
    expect(text).toContain('stickerbot_command_duration_seconds_bucket{le="0.25",op="message:send",outcome="ok"} 1');
    expect(text).toContain('stickerbot_command_duration_seconds_bucket{le="10",op="message:send",outcome="TIMEOUT"} 0');
    expect(text).toContain('stickerbot_command_duration_seconds_count{op="message:send",outcome="TIMEOUT"} 1');
  });

  it('computes journal lag per group from the journal at scrape time', async () => {
    storage = openStorage(dir);
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.watch({ journal: storage.journal });
    for (let i = 0; i < 10; i += 1) storage.journal.append({ sessionId: 'default', event: reaction });
    storage.journal.ack('bot', 7);
    storage.journal.ack('audit', 2);
    let text = await metrics.metrics();
    expect(text).toContain('stickerbot_journal_lag{group="bot"} 3');
    expect(text).toContain('stickerbot_journal_lag{group="audit"} 8');
    storage.journal.ack('bot', 10);
    text = await metrics.metrics();
    expect(text).toContain('stickerbot_journal_lag{group="bot"} 0');
  });

  it('computes journal lag from reported appends and acks without a journal source', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.journaled({ seq: 40, sessionId: 'default', event: reaction });
    metrics.acked('bot', 35);
    metrics.acked('bot', 30);
    expect(await metrics.metrics()).toContain('stickerbot_journal_lag{group="bot"} 5');
  });

  it('counts sessions by state from a source, with every state present', async () => {
    const sessions: { status: 'CONNECTED' | 'QR_REQUIRED' }[] = [{ status: 'CONNECTED' }, { status: 'CONNECTED' }];
    const metrics = createMetrics({ defaultMetrics: false, sessions: () => sessions });
    let text = await metrics.metrics();
    expect(text).toContain('stickerbot_sessions{state="CONNECTED"} 2');
    expect(text).toContain('stickerbot_sessions{state="LOGGED_OUT"} 0');
    sessions.pop();
    sessions.push({ status: 'QR_REQUIRED' });
    text = await metrics.metrics();
    expect(text).toContain('stickerbot_sessions{state="CONNECTED"} 1');
    expect(text).toContain('stickerbot_sessions{state="QR_REQUIRED"} 1');
  });

  it("reads the V8 heap's resident pages and, on Linux, RSS split into anonymous and file-backed", async () => {
    const resident = readResidentMemory();
    const { rss, heapUsed } = process.memoryUsage();
    // Resident heap pages hold at least the live objects' bytes less what a page leaves free.
    expect(resident.heapPhysical).toBeGreaterThan(heapUsed / 2);
    if (process.platform === 'linux') {
      expect(resident.rssAnon).toBeGreaterThan(resident.heapPhysical);
      expect(resident.rssFile).toBeGreaterThan(0);
      // Read a moment apart from memoryUsage's RSS, and shared memory is left out of both.
      expect((resident.rssAnon ?? 0) + (resident.rssFile ?? 0)).toBeGreaterThan(rss * 0.8);
      expect((resident.rssAnon ?? 0) + (resident.rssFile ?? 0)).toBeLessThan(rss * 1.2);
    }
    const text = await createMetrics({ defaultMetrics: false }).metrics();
    expect(text).toMatch(/stickerbot_memory_bytes\{kind="heapPhysical"\} [1-9]\d{6,}/);
    if (process.platform === 'linux') expect(text).toMatch(/stickerbot_memory_bytes\{kind="rssAnon"\} [1-9]\d{6,}/);
  });

  it('reports memory by kind and cache entries by session, dropping a session that is gone', async () => {
    const memory = { rss: 150e6, heapTotal: 60e6, heapUsed: 50e6, external: 5e6, arrayBuffers: 1e6 };
    let sessions = new Map([
      ['a', { signalKeys: 12, msgRetry: 1, groups: 3 }],
      ['b', { signalKeys: 4, msgRetry: 0, groups: 0 }],
    ]);
    const metrics = createMetrics({ defaultMetrics: false, memory: () => memory, resident: () => ({ heapPhysical: 45e6, rssAnon: 110e6, rssFile: 40e6 }) });
    let sessionBytes = new Map([
      ['a', 48_000],
      ['b', 0],
    ]);
    metrics.watch({ caches: () => ({ sessions, sessionBytes, shared: { signalKeys: 16 } }) });
    const text = await metrics.metrics();
    expect(text).toContain('stickerbot_memory_bytes{kind="rss"} 150000000');
    expect(text).toContain('stickerbot_memory_bytes{kind="heapUsed"} 50000000');
    expect(text).toContain('stickerbot_memory_bytes{kind="heapPhysical"} 45000000');
    expect(text).toContain('stickerbot_memory_bytes{kind="rssAnon"} 110000000');
    expect(text).toContain('stickerbot_memory_bytes{kind="rssFile"} 40000000');
    expect(text).toContain('stickerbot_session_cache_entries{session="a",cache="signalKeys"} 12');
    expect(text).toContain('stickerbot_session_cache_entries{session="b",cache="groups"} 0');
    expect(text).toContain('stickerbot_shared_cache_entries{cache="signalKeys"} 16');
    expect(text).toContain('stickerbot_session_memory_bytes{session="a"} 48000');
    expect(text).toContain('stickerbot_session_memory_bytes{session="b"} 0');
    sessions = new Map([['a', { signalKeys: 2, msgRetry: 0, groups: 3 }]]);
    sessionBytes = new Map([['a', 9_000]]);
    const later = await metrics.metrics();
    expect(later).toContain('stickerbot_session_cache_entries{session="a",cache="signalKeys"} 2');
    expect(later).toContain('stickerbot_session_memory_bytes{session="a"} 9000');
    expect(later).not.toContain('session="b"');
  });

  it('sets sessions by state from a pushed list', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.setSessions([{ status: 'RECONNECTING' }]);
    expect(await metrics.metrics()).toContain('stickerbot_sessions{state="RECONNECTING"} 1');
  });

  it('serves as the command executor and worker namespace metric sinks', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const commandSink: CommandMetricsSink = metrics;
    const workerSink: WorkerNamespaceMetrics = metrics;
    commandSink.observeCommand('session:list', 'replayed', 0.002);
    workerSink.eventsDelivered(3, 'bot');
    const text = await metrics.metrics();
    expect(text).toContain('stickerbot_command_duration_seconds_count{op="session:list",outcome="replayed"} 1');
    expect(text).toContain('stickerbot_events_delivered_total{group="bot"} 3');
  });
});
