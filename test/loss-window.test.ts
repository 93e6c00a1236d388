/**
 * The receipt-before-journal window after a fresh link (issue 12, item 6), over the real
 * client path: the emulator in its own process with a primary phone that never sends the
 * initial history sync, so Baileys in the daemon stays in `AwaitingInitialSync` and holds
 * `messages.upsert` back for up to 20 s after it sent the message's receipt. The daemon
 * (scripts/sim-daemon.ts, real Baileys) is SIGKILLed as soon as the emulator has the
 * receipt; after a restart the message must be in the journal and reach a worker exactly
 * once, with its backlog flag, and the upsert Baileys emits later must not journal it again.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JournalEntry } from '@stickerbot/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { scanQrCodes, startEmulator, type Emulator } from '../scripts/dev-sim.js';
import { connectWorker, type WorkerClient } from '../scripts/support/emulator-stack.js';
import { readJournal } from './support/journal.js';
import { exited, killAll, repoRoot, spawnSimDaemon, until } from '../scripts/support/process-stack.js';

const BOT = '4915100000001';
const ALICE = '4915200000011';
const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-loss-window-'));
const children: ChildProcess[] = [];
const closers: Array<() => void> = [];
const output: string[] = [];

/** A daemon child process and what its log said. */
interface Daemon {
  child: ChildProcess;
  port: () => number;
  logged: (text: string) => boolean;
}

function startDaemon(emulator: Emulator, name: string): Daemon {
  // Debug, so that Baileys' own "awaiting history sync" line shows which state it is in.
  const child = spawnSimDaemon(emulator, dataDir, 'debug');
  children.push(child);
  const lines: string[] = [];
  let port = 0;
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const split = (partial + chunk).split('\n');
    partial = split.pop() ?? '';
    for (const line of split) {
      lines.push(line);
      const match = /"port":(\d+),"msg":"bridge listening"/.exec(line);
      if (match?.[1]) port = Number(match[1]);
      if (/"level":(40|50|60)/.test(line) || line.includes('"msg":"session state changed"')) {
        output.push(`${name}: ${line.slice(0, 400)}`);
        if (output.length > 60) output.shift();
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => void output.push(`${name} stderr: ${chunk.trimEnd()}`));
  return { child, port: () => port, logged: (text) => lines.some((line) => line.includes(text)) };
}

async function admin(emulator: Emulator, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${emulator.adminUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function kill(daemon: Daemon): Promise<void> {
  daemon.child.kill('SIGKILL');
  await exited(daemon.child);
}

const AWAITING = 'First connection, awaiting history sync notification';
const received = (entries: readonly JournalEntry[], id: string) =>
  entries.filter((entry) => entry.event.type === 'message:received' && entry.event.message.id === id);

afterAll(async () => {
  for (const close of closers) close();
  await killAll(children);
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('a message received while Baileys waits for the first history sync (AwaitingInitialSync)', () => {
  it('is journaled before its receipt leaves: SIGKILL right after the receipt loses nothing, and the later upsert adds no duplicate', async () => {
    try {
      const emulator = await startEmulator(repoRoot, dataDir, { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });
      children.push(emulator.child);
      await admin(emulator, '/faults', { withholdHistorySync: true });

      // Link fresh. Baileys now waits for a history sync that never comes.
      let daemon = startDaemon(emulator, 'daemon#1');
      await until(() => daemon.port() !== 0, 'the daemon to listen');
      const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
      const dashboard = scanQrCodes({ bridgeUrl: `http://127.0.0.1:${daemon.port()}`, token, adminUrl: emulator.adminUrl, phones: { default: BOT }, say: () => undefined });
      closers.push(() => dashboard.close());
      await until(() => daemon.logged(AWAITING), 'Baileys to await the initial history sync');
      dashboard.close();
      // Stopped inside the 20 s wait, so Baileys never counted the sync as done: its next
      // login waits again (creds.accountSyncCounter is still 0).
      await kill(daemon);

      // What WhatsApp queues while the daemon is away arrives as offline backlog: a message,
      // and a reaction (a message too, which Baileys turns into `messages.reaction`).
      const { id: offlineId } = (await admin(emulator, `/phones/${ALICE}/text`, { text: '!ping while you were away', to: BOT, name: 'Alice' })) as { id: string };
      const { id: reactionId } = (await admin(emulator, `/phones/${ALICE}/react`, { messageId: 'BOTREPLY1', emoji: '👍', to: BOT })) as { id: string };
      daemon = startDaemon(emulator, 'daemon#2');
      await until(() => daemon.logged(AWAITING), 'Baileys to await the initial history sync again', 60_000);
      // Killed as soon as both offline messages have their receipts (Baileys may send them
      // in either order on a loaded machine).
      const receipted = async (id: string) => ((await admin(emulator, `/receipts?messageId=${id}`)) as { receipts: string[] }).receipts.length > 0;
      for (const deadline = Date.now() + 60_000; ; await new Promise((resolve) => setTimeout(resolve, 5))) {
        if ((await receipted(reactionId)) && (await receipted(offlineId))) break;
        if (Date.now() > deadline) throw new Error('no receipts for the offline message and reaction');
      }
      await kill(daemon);
      // What Baileys emits after its receipt is in the journal even so.
      expect(readJournal(dataDir).messages.get(offlineId)).toBe(1);

      // A live message and one more from the backlog, then the 20 s wait runs out and
      // Baileys flushes its held-back upserts: nothing may be journaled twice.
      const { id: backlogId } = (await admin(emulator, `/phones/${ALICE}/text`, { text: '!ping again', to: BOT, name: 'Alice' })) as { id: string };
      await admin(emulator, `/phones/${ALICE}/react`, { messageId: 'BOTREPLY2', emoji: '🎉', to: BOT });
      await admin(emulator, `/phones/${ALICE}/edit`, { messageId: offlineId, text: '!ping, edited', to: BOT });
      await admin(emulator, `/phones/${ALICE}/revoke`, { messageId: offlineId, to: BOT });
      daemon = startDaemon(emulator, 'daemon#3');
      await until(() => daemon.port() !== 0, 'the restarted daemon to listen', 60_000);
      const worker: WorkerClient = await connectWorker(`http://127.0.0.1:${daemon.port()}`, token);
      closers.push(() => worker.close());
      await until(() => daemon.logged(AWAITING), 'Baileys to await the initial history sync a third time', 60_000);
      const { id: liveId } = (await admin(emulator, `/phones/${ALICE}/text`, { text: '!ping live', to: BOT, name: 'Alice' })) as { id: string };
      await admin(emulator, `/phones/${ALICE}/react`, { messageId: 'BOTREPLY3', emoji: '🔥', to: BOT });
      await until(() => daemon.logged('Timeout in AwaitingInitialSync'), 'Baileys to give up waiting and flush its buffer', 60_000);
      await worker.waitForEntry((entry) => received([entry], liveId).length > 0, 'the live message at the worker');
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      for (const [id, backlog] of [[offlineId, true], [backlogId, true], [liveId, false]] as const) {
        const entries = received(worker.entries, id);
        expect(entries, `worker entries of ${id}`).toHaveLength(1);
        expect(entries[0]?.event.type === 'message:received' && entries[0].event.message.backlog, `backlog flag of ${id}`).toBe(backlog);
      }
      const reactions = worker.entries.flatMap((entry) => (entry.event.type === 'reaction:received' ? [`${entry.event.messageId} ${entry.event.emoji}`] : []));
      expect(reactions.sort()).toEqual(['BOTREPLY1 👍', 'BOTREPLY2 🎉', 'BOTREPLY3 🔥']);
      const updates = worker.entries.flatMap((entry) => (entry.event.type === 'message:updated' && entry.event.id === offlineId ? [entry.event] : []));
      expect(updates).toEqual([
        expect.objectContaining({ editedText: '!ping, edited' }),
        expect.objectContaining({ deleted: true }),
      ]);
      const journal = readJournal(dataDir);
      expect(journal.integrity).toBe('ok');
      expect(journal.ordered).toBe(true);
      expect([offlineId, backlogId, liveId].map((id) => journal.messages.get(id))).toEqual([1, 1, 1]);
      const { problems } = await admin(emulator, '/unhandled');
      expect(problems).toEqual([]);
    } catch (err) {
      throw new Error(`${String(err)}\n--- recent output ---\n${output.slice(-40).join('\n')}`, { cause: err });
    }
  }, 240_000);
});
