/**
 * A device-list refresh keeps the Signal sessions it finds (the Baileys patch). Baileys asks
 * WhatsApp for a user's devices whenever its device cache has no entry (the daemon keeps
 * them 5 minutes), and the answer carries every user's LID. Stock Baileys then rebuilt the
 * sessions of every LID in the answer, not only of LIDs it had just learned: every five
 * minutes of a chat a one-time prekey of the contact's phone (and of the bot's own phone)
 * used up, a `pkmsg` instead of a `msg`, and one more entry in each session record (libsignal
 * keeps 40), which is written with every message after it. The test counts the client's
 * session-record entries for the contact and the own phone across such a refresh.
 */
import type { UserFacingSocketConfig } from '@whiskeysockets/baileys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPairedHarness, type PairedHarness } from './support/paired-client.js';

const ALICE = '4915200000041';

describe('a device-list refresh with the real Baileys client', () => {
  let h: PairedHarness;
  // The client's device cache, emptied by the test as its TTL would empty it.
  const devices = new Map<string, unknown>();
  const userDevicesCache = {
    get: <T>(key: string) => devices.get(key) as T | undefined,
    set: (key: string, value: unknown) => void devices.set(key, value),
    del: (key: string) => void devices.delete(key),
    flushAll: () => devices.clear(),
  } satisfies UserFacingSocketConfig['userDevicesCache'];

  beforeAll(async () => {
    h = await startPairedHarness('4915100000041', { userDevicesCache });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('sends on the sessions it has after the device cache expired: no new session for the contact or the own phone', async () => {
    const alice = h.sim.phone(ALICE);
    const own = h.sim.phone(h.bot);
    // The first send builds the sessions; the second shows them in use.
    for (const text of ['first', 'second']) {
      await h.client.socket.sendMessage(alice.jid, { text });
      expect((await alice.nextMessage()).text).toBe(text);
      await own.nextMessage();
    }

    const addresses = [alice.lid, `${h.sim.account(h.bot).lid}@lid`].map((lid) => `${lid.split('@')[0]}_1.0`);
    const before = await sessionEntries(addresses);
    expect(before.every((count) => count >= 1)).toBe(true);

    expect(devices.size).toBeGreaterThan(0);
    devices.clear();
    await h.client.socket.sendMessage(alice.jid, { text: 'after the refresh' });
    expect((await alice.nextMessage()).text).toBe('after the refresh');
    await own.nextMessage();
    // The refresh did ask WhatsApp again, and the sessions are the ones there were.
    expect(devices.size).toBeGreaterThan(0);
    expect(await sessionEntries(addresses)).toEqual(before);
  });

  /** How many sessions (libsignal's record entries: the open one and those it replaced) the client keeps per address. */
  async function sessionEntries(addresses: string[]): Promise<number[]> {
    const stored = await h.client.socket.authState.keys.get('session', addresses);
    return addresses.map((address) => Object.keys((stored[address] as unknown as { _sessions?: object } | undefined)?._sessions ?? {}).length);
  }
});
