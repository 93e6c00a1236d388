/**
 * `pnpm bench:sessions`: the sessions side's inbound path alone: fake-socket
 * `messages.upsert` → map → journal append (real SQLite file) → `journaled` event, one
 * message per upsert as WhatsApp delivers live traffic. Prints a table and one summary line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createSessionRegistry, openStorage } from '@stickerbot/daemon';
import { buildTextMessage, createFakeWa } from '@stickerbot/daemon/test-kit';

const dir = mkdtempSync(join(tmpdir(), 'stickerbot-bench-sessions-'));
const storage = openStorage(dir);
const wa = createFakeWa({ linked: true });
const registry = createSessionRegistry({ storage, socketFactory: wa.factory, maxMediaBytes: 16 * 1024 * 1024, logger: pino({ level: 'silent' }) });
let journaled = 0;
registry.on('journaled', () => (journaled += 1));
try {
  await registry.startAll(['default']);
  while (registry.get('default')?.status !== 'CONNECTED') await new Promise((resolve) => setTimeout(resolve, 10));
  const rows: { messages: number; perSecond: number; p50: number; p99: number }[] = [];
  for (const count of [1_000, 10_000]) {
    const messages = Array.from({ length: count }, (_, i) => buildTextMessage({ from: '4915100000001', text: `!ping ${i}`, pushName: 'Alice' }));
    const latencies: number[] = [];
    const started = performance.now();
    for (const message of messages) {
      const t = performance.now();
      wa.session('default').receive([message]);
      latencies.push(performance.now() - t);
    }
    const elapsed = performance.now() - started;
    latencies.sort((a, b) => a - b);
    rows.push({
      messages: count,
      perSecond: Math.round((count / elapsed) * 1000),
      p50: latencies[Math.floor(count * 0.5)] ?? 0,
      p99: latencies[Math.floor(count * 0.99)] ?? 0,
    });
  }
  console.log('| messages | upserts/s | handler p50 (ms) | handler p99 (ms) |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(`| ${row.messages} | ${row.perSecond} | ${row.p50.toFixed(3)} | ${row.p99.toFixed(3)} |`);
  const last = rows.at(-1);
  console.log(`sessions: journal-first upsert ${last?.perSecond ?? 0} msg/s, handler p99 ${last?.p99.toFixed(2) ?? '?'} ms at 10k (${journaled} entries journaled)`);
} finally {
  await registry.stopAll();
  storage.close();
  rmSync(dir, { recursive: true, force: true });
}
