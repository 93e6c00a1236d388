/**
 * Proof 2 (issue 7): the daemon is killed with SIGKILL while messages stream in, and
 * started again on the same data folder and port. Its sessions come back from the SQLite
 * auth store without a QR, the journal is intact and holds every message the daemon had
 * taken (past Baileys' ack point), and the same worker process reconnects and resumes: every
 * message is answered exactly once.
 *
 * The model of WhatsApp here: a message counts as delivered to the daemon once its
 * `messages.upsert` handler returned (Baileys has acked it to the server by then). Messages
 * not yet delivered when the daemon died are delivered again after the restart, as
 * WhatsApp's offline queue does. "Ack-before-emit window" losses are delivered messages
 * missing from the journal after the crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readJournal } from './support/journal.js';
import { createStack, exited, replyGaps, until, type Stack } from '../scripts/support/process-stack.js';

const soak = process.env.STICKERBOT_SOAK === '1';
const sizes = soak ? { messages: 2000, crashes: 3, rate: 100 } : { messages: 150, crashes: 1, rate: 60 };

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('daemon crash (SIGKILL mid-stream)', () => {
  it(
    'comes back without a QR, with the journal intact, and the worker resumes without losing or repeating an answer',
    async () => {
      const s = (stack = createStack({ sessions: 8 }));
      try {
        let daemon = await s.startDaemon();
        for (const sessionId of s.sessions) daemon.request({ t: 'scan', sessionId });
        await until(() => daemon.reports.filter((r) => r.t === 'open').length === s.sessions.length, 'every session to open after the scan');
        const port = daemon.port;
        const worker = s.startWorker();

        let windowLosses = 0;
        const crashAt = Array.from({ length: sizes.crashes }, (_, i) => Math.floor((sizes.messages * (i + 1)) / (sizes.crashes + 1)));
        const perTick = Math.max(1, Math.round(sizes.rate / 20));
        for (const threshold of crashAt) {
          // Stream until this crash point, then kill the daemon between two batches' deliveries.
          while (s.inbound.length < threshold) {
            s.send(Math.min(perTick, threshold - s.inbound.length));
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          s.send(perTick);
          daemon.child.kill('SIGKILL');
          await exited(daemon.child);

          const journal = readJournal(s.dataDir);
          expect(journal.integrity).toBe('ok');
          expect(journal.ordered).toBe(true);
          const missing = [...s.delivered].filter((id) => !journal.messages.has(id));
          windowLosses += missing.length;

          daemon = await s.startDaemon({ STICKERBOT_PORT: String(port) });
          await until(() => daemon.reports.filter((r) => r.t === 'open').length === s.sessions.length, 'every session to reopen');
          expect(daemon.reports.filter((r) => r.t === 'qr')).toEqual([]);
          expect(daemon.reports.filter((r) => r.t === 'open').every((r) => r.t === 'open' && !r.viaQr)).toBe(true);
          // What the dead daemon never took, WhatsApp delivers again.
          s.resend(s.inbound.filter((id) => !s.delivered.has(id)));
        }
        while (s.inbound.length < sizes.messages) {
          s.send(Math.min(perTick, sizes.messages - s.inbound.length));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }

        const ids = [...s.inbound];
        await until(() => ids.every((id) => s.repliesTo.has(id)), 'every message to be answered', 120_000, 100);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const gaps = replyGaps(s, ids);
        process.stdout.write(
          `daemon crash: ${ids.length} messages, ${sizes.crashes} SIGKILL of the daemon, ack-before-emit window losses ${windowLosses}, ` +
            `lost ${gaps.lost.length}, duplicated ${gaps.duplicated.length}\n`,
        );
        expect(windowLosses).toBe(0);
        expect(gaps).toEqual({ lost: [], duplicated: [] });
        // The same worker process rode through every crash.
        expect(worker.exitCode).toBeNull();
        expect(worker.signalCode).toBeNull();
        worker.kill('SIGTERM');
        await exited(worker);
        const records = s.workerRecords();
        expect(ids.filter((id) => !records.processed.has(id))).toEqual([]);
        const journal = readJournal(s.dataDir);
        expect(ids.filter((id) => !journal.messages.has(id))).toEqual([]);
        // The daemon writes an acknowledged position within five seconds (DEFAULT_POSITION_DELAY_MS).
        await until(() => readJournal(s.dataDir).positions.get('bot') === records.position, "the worker's last position stored", 10_000, 100);
      } catch (err) {
        throw new Error(`${String(err)}\n--- recent output ---\n${s.log.slice(-40).join('\n')}`, { cause: err });
      }
    },
    soak ? 600_000 : 120_000,
  );
});
