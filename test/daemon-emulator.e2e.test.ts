/**
 * End to end: the unmodified daemon (createDaemon + its production Baileys socket factory,
 * with the pnpm-patched, really verifying Baileys) against the wa-sim WhatsApp Web
 * emulator over loopback, and a raw worker Socket.IO client on the bridge.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { unpackText, type StoredText } from '@stickerbot/daemon';
import { createStickerEngine } from '@stickerbot/sticker';
import type { JournalEntry, Message } from '@stickerbot/protocol';
import type { ContactPhone } from '@stickerbot/wa-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from '@stickerbot/sticker/test-kit';
import {
  connectWorker,
  removeDataDir,
  startSimDaemon,
  startTrustedSim,
  waitFor,
  type SimDaemon,
  type WorkerClient,
} from '../scripts/support/emulator-stack.js';

const BOT = '4915100000001';
const ALICE = '4915200000002';

type Sim = Awaited<ReturnType<typeof startTrustedSim>>;

const messageOf = (entry: JournalEntry): Message | undefined => (entry.event.type === 'message:received' ? entry.event.message : undefined);

/** The raw column the daemon journaled for a message id. */
function journaledRaw(dataDir: string, messageId: string): string | undefined {
  const db = new Database(path.join(dataDir, 'daemon.sqlite'), { readonly: true });
  try {
    const stored = db.prepare('SELECT raw FROM journal WHERE message_id = ? ORDER BY seq DESC LIMIT 1').pluck().get(messageId) as StoredText | null | undefined;
    return stored === null || stored === undefined ? undefined : unpackText(stored);
  } finally {
    db.close();
  }
}

function authRows(dataDir: string): { creds: number; keys: number } {
  const db = new Database(path.join(dataDir, 'daemon.sqlite'), { readonly: true });
  try {
    const creds = (db.prepare('SELECT count(*) AS n FROM auth_creds').get() as { n: number }).n;
    const keys = (db.prepare('SELECT count(*) AS n FROM auth_keys').get() as { n: number }).n;
    return { creds, keys };
  } finally {
    db.close();
  }
}

describe('the daemon against the WhatsApp Web emulator', { timeout: 60_000 }, () => {
  let sim: Sim;
  let alice: ContactPhone;
  let daemon: SimDaemon;
  let worker: WorkerClient | undefined;
  let deviceId = 0;
  const dataDirs: string[] = [];
  const stickers = createStickerEngine({ concurrency: 1 });
  let png: Buffer;

  const restartDaemon = async () => {
    worker?.close();
    worker = undefined;
    await daemon.stop();
    daemon = await startSimDaemon(sim, { dataDir: daemon.dataDir });
  };
  const ensureWorker = async () => (worker ??= await connectWorker(daemon.url, daemon.token));

  /** Message ids Baileys' retry manager was given to keep (to answer retry receipts). */
  const recentMessages: string[] = [];
  let restoreRetryManager = () => undefined as void;

  beforeAll(async () => {
    // The module the daemon's Baileys loads (pnpm links the daemon's copy; Node resolves the real path).
    const retryModule = (await import(
      pathToFileURL(path.join(import.meta.dirname, '../packages/daemon/node_modules/@whiskeysockets/baileys/lib/Utils/message-retry-manager.js')).href
    )) as { MessageRetryManager: { prototype: { addRecentMessage(this: unknown, to: string, id: string, message: unknown): void } } };
    const { prototype } = retryModule.MessageRetryManager;
    const original = Object.getOwnPropertyDescriptor(prototype, 'addRecentMessage')?.value as typeof prototype.addRecentMessage;
    prototype.addRecentMessage = function (this: unknown, to: string, id: string, message: unknown) {
      recentMessages.push(id);
      original.call(this, to, id, message);
    };
    restoreRetryManager = () => void (prototype.addRecentMessage = original);
    png = await makePng();
    sim = await startTrustedSim();
    alice = sim.phone(ALICE, { name: 'Alice' });
  }, 60_000);

  afterAll(async () => {
    restoreRetryManager();
    worker?.close();
    await daemon?.stop();
    await sim?.release();
    await stickers.close();
    for (const dir of dataDirs) removeDataDir(dir);
  });

  it('logs in by QR: the fake phone scans the QR the daemon shows and the session is CONNECTED', async () => {
    daemon = await startSimDaemon(sim);
    dataDirs.push(daemon.dataDir);
    const qr = await waitFor(() => daemon.qrs[0], 'the first QR');
    ({ deviceId } = await sim.scanQr(qr, { phone: BOT }));
    const session = await daemon.waitForStatus('CONNECTED');
    expect(session.account?.jid).toContain(BOT);
    expect(authRows(daemon.dataDir).creds).toBe(1);
  });

  it('journals an inbound text and image and delivers them to a worker client; the image downloads intact', async () => {
    const client = await ensureWorker();
    const text = await alice.sendText('hello bot');
    const textEntry = await client.waitForEntry((e) => messageOf(e)?.id === text.id, 'the text');
    expect(messageOf(textEntry)).toMatchObject({ kind: 'text', text: 'hello bot', fromMe: false, backlog: false });

    // The Baileys patch keeps received messages out of the retry manager's recent messages
    // (they are never sent again from here); what the bot sends is still kept (next test).
    expect(recentMessages).not.toContain(text.id);

    const image = await alice.sendMedia('image', png, { caption: '!s', mimetype: 'image/png' });
    const imageEntry = await client.waitForEntry((e) => messageOf(e)?.id === image.id, 'the image');
    expect(messageOf(imageEntry)).toMatchObject({ kind: 'image', text: '!s' });
    // Baileys' decoded content is journaled as protobuf bytes, and downloads from there.
    expect(JSON.parse(journaledRaw(daemon.dataDir, image.id) ?? '{}')).toMatchObject({ message: { $proto: expect.any(String) as string } });
    const downloaded = await client.command('media:download', { sessionId: 'main', messageId: image.id });
    expect(Buffer.from(downloaded.data).equals(png)).toBe(true);
    expect(sim.unhandled).toEqual([]);
    expect(sim.problems).toEqual([]);
  });

  it('sends text and a sticker that the fake phone decrypts and verifies, and relays delivery and read receipts as message:updated', async () => {
    const client = await ensureWorker();
    const sentText = await client.command('message:send', { sessionId: 'main', chat: alice.jid, content: { type: 'text', text: 'hi Alice' } });
    const gotText = await alice.nextMessage(20_000);
    expect(gotText.id).toBe(sentText.messageId);
    expect(recentMessages).toContain(sentText.messageId);
    expect(gotText.text).toBe('hi Alice');

    const sticker = await stickers.toSticker(png, { pack: 'E2E', author: 'bot' });
    const sentSticker = await client.command('message:send', { sessionId: 'main', chat: alice.jid, content: { type: 'sticker', data: new Uint8Array(sticker.data) } });
    const gotSticker = await alice.nextMessage(20_000);
    expect(gotSticker.id).toBe(sentSticker.messageId);
    expect(gotSticker.mediaType).toBe('sticker');
    expect(alice.downloadMedia(gotSticker).equals(Buffer.from(sticker.data))).toBe(true);

    const statusesOf = (id: string) =>
      client.entries.flatMap((e) => (e.event.type === 'message:updated' && e.event.id === id && e.event.status ? [e.event.status] : []));
    await waitFor(() => statusesOf(sentText.messageId).includes('delivered'), 'a delivery receipt for the text');
    // Alice opens the chat after the delivery: her read receipt follows.
    alice.read([sentText.messageId]);
    await waitFor(() => statusesOf(sentText.messageId).includes('read'), 'a read receipt for the text');
    await waitFor(() => statusesOf(sentSticker.messageId).some((s) => s === 'server' || s === 'delivered'), 'a receipt for the sticker');
    expect(sim.problems).toEqual([]);
  });

  it('reconnects after a daemon restart without a QR', async () => {
    await restartDaemon();
    await daemon.waitForStatus('CONNECTED');
    expect(daemon.qrs).toEqual([]);
  });

  it('delivers messages sent while the daemon was down, flagged as backlog', async () => {
    worker?.close();
    worker = undefined;
    await daemon.stop();
    // The emulator queues for a companion only once it has seen the socket close.
    await waitFor(() => !sim.isOnline(BOT, deviceId), 'the emulator to see the device offline');
    const offline = await alice.sendText('sent while you were away');
    daemon = await startSimDaemon(sim, { dataDir: daemon.dataDir });
    await daemon.waitForStatus('CONNECTED');
    const client = await ensureWorker();
    const entry = await client.waitForEntry((e) => messageOf(e)?.id === offline.id, 'the offline message');
    expect(messageOf(entry)).toMatchObject({ text: 'sent while you were away', backlog: true });
  });

  it('reconnects on stream error 515 and on a dropped socket', async () => {
    for (const mode of ['restart', 'drop'] as const) {
      const before = daemon.states.length;
      sim.kick(BOT, deviceId, mode);
      await waitFor(() => daemon.states.slice(before).some((s) => s.status !== 'CONNECTED'), `a disconnect after ${mode}`);
      await waitFor(() => daemon.states.slice(before).some((s) => s.status === 'CONNECTED'), `a reconnect after ${mode}`);
      expect(sim.isOnline(BOT, deviceId)).toBe(true);
    }
  });

  it('stops instead of fighting when the same device logs in elsewhere (440 conflict)', async () => {
    // A second daemon with a copy of the same auth state is "the bot running twice".
    const copyDir = mkdtempSync(path.join(tmpdir(), 'stickerbot-sim-e2e-copy-'));
    dataDirs.push(copyDir);
    const live = new Database(path.join(daemon.dataDir, 'daemon.sqlite'));
    live.exec(`VACUUM INTO '${path.join(copyDir, 'daemon.sqlite')}'`);
    live.close();
    const twin = await startSimDaemon(sim, { dataDir: copyDir });
    try {
      await twin.waitForStatus('CONNECTED');
      const stopped = await daemon.waitForStatus('ERROR');
      expect(stopped.lastDisconnect ?? stopped.lastError?.message ?? '').toMatch(/replaced|conflict|440/i);
      // Not fighting: the twin keeps its connection while the first daemon stays stopped.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(daemon.session()?.status).toBe('ERROR');
      expect(twin.session()?.status).toBe('CONNECTED');
    } finally {
      await twin.stop();
    }
    // Back to one daemon: restarting it takes the device back.
    await restartDaemon();
    await daemon.waitForStatus('CONNECTED');
  });

  it('ends LOGGED_OUT with its credentials wiped when the phone unlinks the device (401)', async () => {
    sim.unlink(BOT, deviceId);
    await daemon.waitForStatus('LOGGED_OUT');
    await waitFor(() => authRows(daemon.dataDir).creds === 0, 'credentials wiped');
    expect(authRows(daemon.dataDir).keys).toBe(0);
    expect(sim.unhandled).toEqual([]);
  });

  it('logs in with a pairing code', async () => {
    const paired = await startSimDaemon(sim, { sessionId: 'paired' });
    dataDirs.push(paired.dataDir);
    try {
      await paired.waitForStatus('QR_REQUIRED');
      const registry = paired.daemon.registry;
      if (!registry) throw new Error('started daemon has a registry');
      const code = await registry.requestPairingCode('paired', '4915100000077');
      expect(code).toMatch(/^[A-Z0-9]{8}$/);
      await sim.enterPairingCode(code, { phone: '4915100000077' });
      const session = await paired.waitForStatus('CONNECTED');
      expect(session.account?.jid).toContain('4915100000077');
    } finally {
      await paired.stop();
    }
  });
});
