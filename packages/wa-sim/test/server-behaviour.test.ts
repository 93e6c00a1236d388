import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisconnectReason } from '@whiskeysockets/baileys';
import { createTestClient } from './support/baileys-client.js';
import { startPairedHarness, type PairedHarness } from './support/paired-client.js';

const CAROL = '4915400000004';

describe('server behaviour a daemon must cope with', () => {
  let h: PairedHarness;
  let deviceId: number;

  beforeAll(async () => {
    h = await startPairedHarness();
    deviceId = [...h.sim.account(h.bot).companions.keys()][0]!;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('queues messages for an offline companion and delivers them as append on reconnect', async () => {
    const carol = h.sim.phone(CAROL, { name: 'Carol' });
    const closed = h.client.waitClosed();
    h.sim.kick(h.bot, deviceId, 'close');
    await closed;
    // The client sees its socket close before the server has processed the close.
    await expect.poll(() => h.sim.isOnline(h.bot, deviceId), { timeout: 10_000 }).toBe(false);
    const first = await carol.sendText('sent while you were away');
    const second = await carol.sendText('and another one');
    const upserts: Array<{ id: string; type: string }> = [];
    h.client.on('messages.upsert', ({ messages, type }) => {
      for (const m of messages) upserts.push({ id: m.key.id ?? '', type });
    });
    await h.client.reconnect();
    await h.client.waitOpen();
    await expect
      .poll(() => upserts.filter((u) => u.id === first.id || u.id === second.id), { timeout: 15_000 })
      .toHaveLength(2);
    expect(upserts.filter((u) => u.id === first.id || u.id === second.id).map((u) => u.type)).toEqual(['append', 'append']);
  });

  it('sends a message again at the next login when the connection closed before its receipt, and a receipted one not', async () => {
    const carol = h.sim.phone(CAROL, { name: 'Carol' });
    const receipted = await carol.sendText('this one is receipted');
    await expect.poll(() => h.sim.receiptsFor(receipted.id).length, { timeout: 10_000 }).toBeGreaterThan(0);
    // The server stops hearing the client: its receipt for the next message never arrives.
    h.sim.faults.blackhole(h.bot, deviceId);
    const unreceipted = await carol.sendText('this one is not');
    const sends = (id: string) => h.sim.transcript().split('\n').filter((line) => line.includes('S→C <message') && line.includes(`id=${id}`));
    await expect.poll(() => sends(unreceipted.id).length, { timeout: 10_000 }).toBe(1);
    h.sim.faults.clear();
    const closed = h.client.waitClosed();
    h.sim.kick(h.bot, deviceId, 'close');
    await closed;
    await expect.poll(() => h.sim.isOnline(h.bot, deviceId), { timeout: 10_000 }).toBe(false);
    await h.client.reconnect();
    await h.client.waitOpen();
    // WhatsApp keeps a message until its receipt: the next connection gets it again, flagged offline.
    await expect.poll(() => sends(unreceipted.id).length, { timeout: 15_000 }).toBe(2);
    expect(sends(unreceipted.id)[1]).toContain('offline=1');
    expect(sends(receipted.id)).toHaveLength(1);
  });

  it('lets the client reconnect after the server restarts its stream (515) or the TCP socket drops', async () => {
    let closed = h.client.waitClosed();
    h.sim.kick(h.bot, deviceId, 'restart');
    expect((await closed).statusCode).toBe(DisconnectReason.restartRequired);
    await h.sim.waitForLogin(h.bot, deviceId);
    await h.client.waitOpen();

    closed = h.client.waitClosed();
    h.sim.kick(h.bot, deviceId, 'drop');
    expect((await closed).statusCode).toBe(DisconnectReason.connectionClosed);
    await h.client.reconnect();
    await h.client.waitOpen();
    expect(h.sim.isOnline(h.bot, deviceId)).toBe(true);
  });

  it('closes the first socket with 440 when the same device logs in a second time, and counts it', async () => {
    const counters = () => h.sim.connections().devices.find((d) => d.pn === h.bot && d.deviceId === deviceId);
    // The reconnects above (after a close, a 515, a drop) never overlapped: no conflict so far.
    expect(counters()).toMatchObject({ conflicts: 0, maxLive: 1, live: 1 });
    const loginsBefore = counters()?.logins ?? 0;
    const closed = h.client.waitClosed();
    const second = await createTestClient(h.sim, { authDir: h.authDir });
    try {
      await second.waitOpen();
      expect((await closed).statusCode).toBe(DisconnectReason.connectionReplaced);
      expect(counters()).toMatchObject({ conflicts: 1, maxLive: 2, logins: loginsBefore + 1 });
      await expect.poll(() => counters()?.live, { timeout: 10_000 }).toBe(1);
      expect(h.sim.connections()).toMatchObject({ conflicts: 1, maxLive: 2 });
    } finally {
      await second.end();
    }
    await h.client.reconnect();
    await h.client.waitOpen();
  });

  it('fails an armed login with the injected reason, then lets the next one through', async () => {
    h.sim.faults.failLogins(503);
    const closed = h.client.waitClosed();
    h.sim.kick(h.bot, deviceId, 'close');
    await closed;
    const refused = h.client.waitClosed();
    await h.client.reconnect();
    expect((await refused).statusCode).toBe(503);
    await h.client.reconnect();
    await h.client.waitOpen();
  });

  it('acks an armed message with an error and does not deliver it', async () => {
    const carol = h.sim.phone(CAROL);
    const failed = new Promise<string[]>((resolve) => {
      h.client.on('messages.update', (updates) => {
        const error = updates.find((u) => Number(u.update.status) === 0);
        if (error) resolve(((error.update.messageStubParameters as unknown[] | null | undefined) ?? []).map(String));
      });
    });
    h.sim.faults.rejectNextMessage(479);
    await h.client.socket.sendMessage(carol.jid, { text: 'this one bounces' });
    expect(await failed).toEqual(['479']);
    await h.client.socket.sendMessage(carol.jid, { text: 'this one arrives' });
    expect((await carol.nextMessage()).text).toBe('this one arrives');
  });

  it('recovers a message the client cannot decrypt after losing its session, through a retry receipt', async () => {
    const erin = h.sim.phone('4915600000006', { name: 'Erin' });
    const first = h.client.waitForMessage((m) => m.message?.conversation === 'before the loss');
    await erin.sendText('before the loss');
    await first;
    const closed = h.client.waitClosed();
    h.sim.kick(h.bot, deviceId, 'close');
    await closed;
    const lidUser = erin.lid.split('@')[0] ?? '';
    const sessions = (await readdir(h.authDir)).filter((f) => f.startsWith('session-') && f.includes(lidUser));
    expect(sessions.length).toBeGreaterThan(0);
    await Promise.all(sessions.map((f) => rm(join(h.authDir, f))));
    await h.client.reconnect();
    await h.client.waitOpen();
    const recovered = h.client.waitForMessage((m) => m.message?.conversation === 'after the loss');
    const sent = await erin.sendText('after the loss');
    expect((await recovered).key.id).toBe(sent.id);
    expect(h.sim.receiptsFor(sent.id)).toContain('retry');
  });

  it('makes the client close with 401 when the phone unlinks it, and refuses its next login', async () => {
    const closed = h.client.waitClosed();
    h.sim.unlink(h.bot, deviceId);
    expect((await closed).statusCode).toBe(DisconnectReason.loggedOut);
    const refused = h.client.waitClosed();
    await h.client.reconnect();
    expect((await refused).statusCode).toBe(DisconnectReason.loggedOut);
  });

  it('leaves no unhandled node and no protocol problem behind', () => {
    expect(h.sim.unhandled.map((u) => u.key)).toEqual([]);
    expect(h.sim.problems).toEqual([]);
  });
});
