/**
 * A realistic emulated account (wa-sim's `provisionAccount`: 300 contacts with LIDs, 30 groups
 * of 40, a history sync of 1,000 messages, app state) linked into the unmodified daemon with
 * its production socket factory: what Baileys processed after the login lands in the daemon's
 * own store (LID mappings from the history sync, the app-state key and every synced collection,
 * the processed history notifications), group metadata comes through the daemon's cache, and a
 * contact's message reaches a worker.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { unpackText, type StoredText } from '@stickerbot/daemon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWorker, removeDataDir, startSimDaemon, startTrustedSim, waitFor, type SimDaemon, type WorkerClient } from '../scripts/support/emulator-stack.js';

const BOT = '4915100000301';

describe('a realistic account linked into the daemon', () => {
  let sim: Awaited<ReturnType<typeof startTrustedSim>>;
  let daemon: SimDaemon | undefined;
  let worker: WorkerClient | undefined;

  beforeAll(async () => {
    sim = await startTrustedSim();
  });

  afterAll(async () => {
    worker?.close();
    await daemon?.stop();
    if (daemon) removeDataDir(daemon.dataDir);
    await sim.release();
  });

  it('stores the history sync LID mappings and the synced app state, serves group metadata and journals a contact message', async () => {
    const account = await sim.provisionAccount(BOT);
    daemon = await startSimDaemon(sim, { sessionId: 'main' });
    const qr = await waitFor(() => daemon?.qrs[0], 'the first QR');
    await sim.scanQr(qr, { phone: BOT });
    await daemon.waitForStatus('CONNECTED', 30_000);

    const db = new Database(join(daemon.dataDir, 'daemon.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const keyCount = (type: string) =>
        (db.prepare('SELECT count(*) AS n FROM auth_keys WHERE session_id = ? AND type = ?').get('main', type) as { n: number }).n;
      const creds = () =>
        JSON.parse(unpackText((db.prepare('SELECT creds FROM auth_creds WHERE session_id = ?').get('main') as { creds: StoredText }).creds)) as {
          accountSyncCounter?: number;
          processedHistoryMessages?: unknown[];
          myAppStateKeyId?: string;
        };
      // Baileys counts the initial sync done once history and every collection are in.
      await expect.poll(() => creds().accountSyncCounter, { timeout: 30_000 }).toBe(1);
      expect(creds().processedHistoryMessages?.length).toBeGreaterThan(0);
      expect(creds().myAppStateKeyId).toBeTruthy();
      expect(keyCount('app-state-sync-key')).toBe(1);
      // One version row per collection that had patches (`regular` has none).
      expect(keyCount('app-state-sync-version')).toBe(4);
      // Each contact's PN→LID mapping, both directions.
      expect(keyCount('lid-mapping')).toBeGreaterThanOrEqual(2 * account.contacts.length);
    } finally {
      db.close();
    }

    worker = await connectWorker(daemon.url, daemon.token);
    const group = account.groups[2];
    if (!group) throw new Error('the account has groups');
    const metadata = await worker.command('group:metadata', { sessionId: 'main', chat: group.jid });
    expect(metadata.subject).toBe(group.subject);
    expect(metadata.participants).toHaveLength(40);

    const member = sim.phone(group.members[0] ?? '');
    const sent = await member.sendText('hello from a realistic group', { group: group.jid });
    const entry = await worker.waitForEntry((e) => e.event.type === 'message:received' && e.event.message.id === sent.id, 'the group message');
    expect(entry.event.type === 'message:received' && entry.event.message.chat).toBe(group.jid);
    expect(sim.unhandled.map((u) => u.key)).toEqual([]);
    expect(sim.problems).toEqual([]);
  }, 60_000);
});
