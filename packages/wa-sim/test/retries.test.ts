/**
 * Signal state that one side lost: what a process killed between sending (or decrypting) a
 * message and committing its Signal state leaves behind. WhatsApp clients recover through
 * retry receipts; these tests put the real Baileys client in that state on purpose.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, type TestClient } from './support/baileys-client.js';
import { startPairedHarness, type PairedHarness } from './support/paired-client.js';

const ALICE = '4915200000031';
const BOB = '4915200000032';

/** The client's Signal sessions as files (useMultiFileAuthState), to put back later. */
async function snapshotSessions(authDir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(authDir)).filter((name) => name.startsWith('session-'));
  return new Map(await Promise.all(names.map(async (name) => [name, await readFile(join(authDir, name))] as const)));
}

async function restoreSessions(authDir: string, snapshot: Map<string, Buffer>): Promise<void> {
  for (const [name, bytes] of snapshot) await writeFile(join(authDir, name), bytes);
}

describe('retry receipts after a client lost its last Signal state change', () => {
  let h: PairedHarness;
  let client: TestClient;

  beforeAll(async () => {
    h = await startPairedHarness();
    client = h.client;
  });

  afterAll(async () => {
    await client?.end();
    await h?.close();
  });

  it("gets a bot message to a phone whose session is ahead of the client's: the phone's retry receipt carries its keys, the client resends once", async () => {
    const alice = h.sim.phone(ALICE);
    await client.socket.sendMessage(alice.jid, { text: 'before the snapshot' });
    await alice.nextMessage();
    await h.sim.phone(h.bot).nextMessage();
    const before = await snapshotSessions(h.authDir);
    await client.socket.sendMessage(alice.jid, { text: 'sent, then the state was lost' });
    expect((await alice.nextMessage()).text).toBe('sent, then the state was lost');
    await h.sim.phone(h.bot).nextMessage();
    // The client forgets that send: its next message reuses the chain key the phone consumed.
    await restoreSessions(h.authDir, before);

    const sent = await client.socket.sendMessage(alice.jid, { text: 'on the stale session' });
    const id = sent?.key.id ?? '';
    const received = await alice.nextMessage();
    expect(received.id).toBe(id);
    expect(received.text).toBe('on the stale session');
    // The resend came on a fresh session built from the keys in the receipt.
    expect(received.encType).toBe('pkmsg');
    expect(h.sim.transcript()).toMatch(new RegExp(`S→C <receipt from=\\S+ id=${id} type=retry`));
    // The own phone's copy failed the same way and was sent again; each phone shows the message once.
    const own = await h.sim.phone(h.bot).nextMessage();
    expect(own.id).toBe(id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alice.received.filter((m) => m.id === id)).toHaveLength(1);
    expect(h.sim.phone(h.bot).received.filter((m) => m.id === id)).toHaveLength(1);
    // Later messages go on the new session.
    await client.socket.sendMessage(alice.jid, { text: 'and after it' });
    expect((await alice.nextMessage()).text).toBe('and after it');
    expect(h.sim.problems).toEqual([]);
  });

  it('gets a message the client decrypted but never receipted (the process died before storing it): the redelivery fails, its retry receipt brings it again', async () => {
    const bob = h.sim.phone(BOB, { name: 'Bob' });
    await client.end();
    // A client that stops right after the decrypt: its Signal state is committed, the message is neither stored nor receipted.
    let decrypted!: () => void;
    const reachedStore = new Promise<void>((resolve) => (decrypted = resolve));
    const dying = await createTestClient(h.sim, {
      authDir: h.authDir,
      extra: {
        beforeMessageReceipt: (message) => {
          if (message.message?.conversation !== 'decrypted, never stored') return Promise.resolve();
          decrypted();
          return new Promise<void>(() => undefined);
        },
      },
    });
    await dying.waitOpen();
    const sent = await bob.sendText('decrypted, never stored');
    await reachedStore;
    await dying.end();
    expect(h.sim.receiptsFor(sent.id)).toEqual([]);

    // WhatsApp delivers it again to the next connection; the key was used already.
    client = await createTestClient(h.sim, { authDir: h.authDir });
    // The failed decrypt shows as a CIPHERTEXT stub first; the resend brings the text.
    const message = await client.waitForMessage((m) => m.key.id === sent.id && !!m.message, 30_000);
    expect(message.message?.conversation).toBe('decrypted, never stored');
    expect(h.sim.receiptsFor(sent.id)).toContain('retry');
    await expect.poll(() => h.sim.receiptsFor(sent.id).filter((type) => type !== 'retry').length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(h.sim.problems).toEqual([]);
  });

  it('gives up on a copy the phone cannot decrypt after three retry receipts, and records it as a protocol problem', async () => {
    const alice = h.sim.phone(ALICE);
    const id = '3EB0BADC0FFEE0000000AB';
    // The same undecryptable stanza four times: the client has no such message to send again.
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await client.socket.sendNode({ tag: 'message', attrs: { id, to: alice.jid, type: 'text' }, content: [{ tag: 'enc', attrs: { v: '2', type: 'msg' }, content: Buffer.from('not a signal message') }] });
    }
    await expect.poll(() => h.sim.problems.filter((problem) => problem.includes(id)), { timeout: 10_000 }).toHaveLength(1);
    expect(h.sim.problems.find((problem) => problem.includes(id))).toMatch(/could not decrypt, after 3 retry receipts/);
    expect(h.sim.transcript().match(new RegExp(`S→C <receipt from=\\S+ id=${id} type=retry`, 'g'))).toHaveLength(3);
    expect(alice.received.some((m) => m.id === id)).toBe(false);
  });
});
