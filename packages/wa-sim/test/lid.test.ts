import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jidDecode } from '@whiskeysockets/baileys';
import { startPairedHarness, type PairedHarness } from './support/paired-client.js';

const ALICE = '4915200000021';
const BOB = '4915200000022';
const CAROL = '4915200000023';

const userOf = (jid: string | null | undefined): string | undefined => (jid ? jidDecode(jid)?.user : undefined);

describe('LID addressing with the real Baileys client', () => {
  let h: PairedHarness;

  beforeAll(async () => {
    h = await startPairedHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('gives every account a LID beside its phone number', () => {
    const alice = h.sim.phone(ALICE);
    expect(alice.lid).toMatch(/^\d{15}@lid$/);
    expect(h.sim.account(ALICE).lid).toBe(userOf(alice.lid));
    expect(h.sim.account(h.bot).lid).toMatch(/^\d{15}$/);
  });

  it('delivers a 1:1 message from a LID sender with the phone number alongside, and the client learns the mapping', async () => {
    const alice = h.sim.phone(ALICE, { name: 'Alice' });
    const upsert = h.client.waitForMessage((m) => m.message?.conversation === 'from my lid');
    const sent = await alice.sendText('from my lid', { fromLid: true });
    expect(sent.chatJid).toBe(alice.lid);
    const message = await upsert;
    expect(message.key.remoteJid).toBe(alice.lid);
    expect(message.key.remoteJidAlt).toBe(alice.jid);
    expect(message.key.addressingMode).toBe('lid');
    expect(userOf(await h.client.socket.signalRepository.lidMapping.getPNForLID(alice.lid))).toBe(ALICE);
  });

  it("lets the phone decrypt the client's reply to its LID, and the bot's own phone gets the copy for that chat", async () => {
    const alice = h.sim.phone(ALICE);
    const sent = await h.client.socket.sendMessage(alice.lid, { text: 'reply to your lid' });
    const received = await alice.nextMessage();
    expect(received.id).toBe(sent?.key.id);
    expect(received.text).toBe('reply to your lid');
    const ownCopy = await h.sim.phone(h.bot).nextMessage();
    expect(ownCopy.id).toBe(sent?.key.id);
    expect(ownCopy.destinationJid).toBe(alice.lid);
  });

  it("quotes the client's reply in the LID chat with the bot's LID as the quoted author", async () => {
    const alice = h.sim.phone(ALICE);
    await h.client.socket.sendMessage(alice.lid, { text: 'quote me by lid' });
    const original = await alice.nextMessage();
    await h.sim.phone(h.bot).nextMessage();
    const upsert = h.client.waitForMessage((m) => m.message?.extendedTextMessage?.text === 'quoting by lid');
    await alice.sendText('quoting by lid', { fromLid: true, quoted: original });
    const context = (await upsert).message?.extendedTextMessage?.contextInfo;
    expect(context?.stanzaId).toBe(original.id);
    expect(context?.participant).toBe(`${h.sim.account(h.bot).lid}@lid`);
  });

  it('answers the usync LID query the client makes for a phone number it has never seen', async () => {
    const bob = h.sim.phone(BOB);
    const lid = await h.client.socket.signalRepository.lidMapping.getLIDForPN(bob.jid);
    expect(userOf(lid)).toBe(userOf(bob.lid));
    expect(h.sim.transcript()).toContain(`<user jid=${bob.jid}><lid val=${bob.lid}/></user>`);
  });

  it('keeps PN and LID senders of the same phone one conversation for the phone: a PN message after a LID one decrypts', async () => {
    const carol = h.sim.phone(CAROL, { name: 'Carol' });
    const first = h.client.waitForMessage((m) => m.message?.conversation === 'lid first');
    await carol.sendText('lid first', { fromLid: true });
    expect((await first).key.remoteJid).toBe(carol.lid);
    const second = h.client.waitForMessage((m) => m.message?.conversation === 'pn second');
    await carol.sendText('pn second');
    const message = await second;
    expect(message.key.remoteJid).toBe(carol.jid);
    expect(message.key.remoteJidAlt).toBe(carol.lid);
  });

  it('leaves no unhandled node and no protocol problem behind', () => {
    expect(h.sim.unhandled.map((u) => u.key)).toEqual([]);
    expect(h.sim.problems).toEqual([]);
  });
});
