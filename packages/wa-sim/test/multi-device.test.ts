import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sim } from '../src/index.js';
import { startTrustedSim, type TrustedSim } from './support/trusted-sim.js';
import { createTestClient, type TestClient } from './support/baileys-client.js';

const BOT = '4915100000033';
const ALICE = '4915200000033';

describe('two real companions of one account', () => {
  let sim: Sim;
  let first: TestClient;
  let second: TestClient;
  let trusted: TrustedSim;

  /** The client acks a notification after handling it; wait for that ack in the transcript. */
  const devicesNotificationHandled = async (change: 'add' | 'remove') => {
    const sent = new RegExp(`S→C <notification [^\\n]*id=(\\w+)[^\\n]*type=devices[^\\n]*<${change} `);
    for (let waited = 0; waited < 10_000; waited += 50) {
      const id = sent.exec(sim.transcript())?.[1];
      if (id && sim.transcript().includes(`C→S <ack id=${id}`)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the client never acked the devices ${change} notification`);
  };

  beforeAll(async () => {
    trusted = await startTrustedSim();
    sim = trusted.sim;
    first = await createTestClient(sim);
    await sim.scanQr(await first.nextQr(), { phone: BOT });
    await first.waitOpen();
    // Warm the first client's device cache while it is the only companion, so reaching the
    // second one later depends on the server's devices notification.
    const alice = sim.phone(ALICE);
    await first.socket.sendMessage(alice.jid, { text: 'warm-up' });
    expect((await alice.nextMessage()).text).toBe('warm-up');
    second = await createTestClient(sim);
    await sim.scanQr(await second.nextQr(), { phone: BOT });
    await second.waitOpen();
    await devicesNotificationHandled('add');
  });

  afterAll(async () => {
    await first?.end();
    await second?.end();
    await trusted?.close();
  });

  it('links them as devices 1 and 2 of the same account', () => {
    expect([...sim.account(BOT).companions.keys()]).toEqual([1, 2]);
  });

  it('relays what one companion sends to the other, linked later, as its own (fromMe) message', async () => {
    const alice = sim.phone(ALICE);
    const mirrored = second.waitForMessage((m) => m.message?.conversation === 'from device one' || m.message?.extendedTextMessage?.text === 'from device one');
    const sent = await first.socket.sendMessage(alice.jid, { text: 'from device one' });
    expect((await alice.nextMessage()).text).toBe('from device one');
    const copy = await mirrored;
    expect(copy.key.id).toBe(sent?.key.id);
    expect(copy.key.fromMe).toBe(true);
    expect(copy.key.remoteJid).toBe(alice.jid);
  });

  it('delivers a phone message to both companions', async () => {
    const alice = sim.phone(ALICE);
    const toFirst = first.waitForMessage((m) => m.message?.conversation === 'to both of you');
    const toSecond = second.waitForMessage((m) => m.message?.conversation === 'to both of you');
    await alice.sendText('to both of you');
    await Promise.all([toFirst, toSecond]);
  });

  it("delivers a member's group message to both companions, and relays one companion's group send to the other", async () => {
    const alice = sim.phone(ALICE);
    const group = sim.groups.create({ subject: 'Two devices', creator: ALICE, members: [BOT] });
    const toFirst = first.waitForMessage((m) => m.message?.conversation === 'group to both');
    const toSecond = second.waitForMessage((m) => m.message?.conversation === 'group to both');
    await alice.sendText('group to both', { group: group.jid });
    expect((await toFirst).key.participant).toBe(alice.lid);
    expect((await toSecond).key.participant).toBe(alice.lid);

    const mirrored = second.waitForMessage((m) => m.key.remoteJid === group.jid && m.message?.extendedTextMessage?.text === 'group from device one');
    const sent = await first.socket.sendMessage(group.jid, { text: 'group from device one' });
    expect((await alice.nextMessage()).text).toBe('group from device one');
    const copy = await mirrored;
    expect(copy.key.id).toBe(sent?.key.id);
    expect(copy.key.fromMe).toBe(true);
  });

  it('stops addressing a companion the phone unlinked', async () => {
    const alice = sim.phone(ALICE);
    const closed = second.waitClosed();
    sim.unlink(BOT, 2);
    expect((await closed).statusCode).toBe(401);
    await devicesNotificationHandled('remove');
    await first.socket.sendMessage(alice.jid, { text: 'only device one now' });
    expect((await alice.nextMessage()).text).toBe('only device one now');
    // A copy for the removed device would show up as a protocol problem.
    expect(sim.problems).toEqual([]);
  });

  it('leaves no unhandled node and no protocol problem behind', () => {
    expect(sim.unhandled.map((u) => u.key)).toEqual([]);
    expect(sim.problems).toEqual([]);
  });
});
