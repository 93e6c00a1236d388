import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { proto } from '@whiskeysockets/baileys';
import { startPairedHarness, type PairedHarness } from './support/paired-client.js';

const ALICE = '4915200000002';
/** A phone that never wrote to the bot and that the bot never wrote to. */
const STRANGER = '4915200000009';

describe('text messaging between a fake phone and a real Baileys client', () => {
  let h: PairedHarness;

  beforeAll(async () => {
    h = await startPairedHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('delivers a phone text as a notify upsert and records the companion receipt', async () => {
    const alice = h.sim.phone(ALICE, { name: 'Alice' });
    const upsert = h.client.waitForMessage((m) => m.message?.conversation === 'hello from alice');
    const sent = await alice.sendText('hello from alice');
    const message = await upsert;
    expect(message.key.id).toBe(sent.id);
    expect(message.key.remoteJid).toBe(alice.jid);
    expect(message.key.fromMe).toBe(false);
    expect(message.pushName).toBe('Alice');
    await expect.poll(() => h.sim.receiptsFor(sent.id).length, { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it('lets the phone decrypt a text the bot sends, with a copy to the own phone', async () => {
    const alice = h.sim.phone(ALICE);
    const before = Date.now();
    const sent = await h.client.socket.sendMessage(alice.jid, { text: 'hi alice, bot here' });
    const received = await alice.nextMessage();
    expect(received.id).toBe(sent?.key.id);
    expect(received.receivedAt).toBeGreaterThanOrEqual(before);
    expect(received.receivedAt).toBeLessThanOrEqual(Date.now());
    expect(received.text).toBe('hi alice, bot here');
    const ownCopy = await h.sim.phone(h.bot).nextMessage();
    expect(ownCopy.text).toBe('hi alice, bot here');
    expect(ownCopy.destinationJid).toBe(alice.jid);
    await expect.poll(() => h.client.statusesOf(sent?.key.id ?? ''), { timeout: 10_000 }).toContain(3);
  });

  it('carries a quoted reply from the phone as contextInfo of the upsert', async () => {
    const alice = h.sim.phone(ALICE);
    const sent = await h.client.socket.sendMessage(alice.jid, { text: 'quote me' });
    const original = await alice.nextMessage();
    const upsert = h.client.waitForMessage((m) => m.message?.extendedTextMessage?.text === 'quoting you');
    await alice.sendText('quoting you', { quoted: original });
    const reply = await upsert;
    const context: proto.IContextInfo | null | undefined = reply.message?.extendedTextMessage?.contextInfo;
    expect(context?.stanzaId).toBe(sent?.key.id);
    expect(context?.quotedMessage?.extendedTextMessage?.text ?? context?.quotedMessage?.conversation).toBe('quote me');
  });

  it('turns a second bot message into a regular Signal message on the established session', async () => {
    const alice = h.sim.phone(ALICE);
    await h.client.socket.sendMessage(alice.jid, { text: 'one more' });
    const received = await alice.nextMessage();
    expect(received.text).toBe('one more');
    expect(['msg', 'pkmsg']).toContain(received.encType);
  });

  it('reports delivery and then a read receipt from the phone as status updates', async () => {
    const alice = h.sim.phone(ALICE);
    const sent = await h.client.socket.sendMessage(alice.jid, { text: 'read me' });
    const id = sent?.key.id ?? '';
    const statuses = () => h.client.statusesOf(id);
    await alice.nextMessage();
    // A real phone reads after the server's delivery receipt; Baileys' event buffer would merge them otherwise.
    await expect.poll(statuses, { timeout: 10_000 }).toContain(3);
    alice.read([id]);
    await expect.poll(statuses, { timeout: 10_000 }).toContain(4);
  });

  it('delivers a reaction to a bot message', async () => {
    const alice = h.sim.phone(ALICE);
    const sent = await h.client.socket.sendMessage(alice.jid, { text: 'react to me' });
    await alice.nextMessage();
    const reaction = new Promise<string>((resolve) => {
      h.client.on('messages.reaction', (reactions) => {
        const match = reactions.find((r) => r.key.id === sent?.key.id);
        if (match) resolve(match.reaction.text ?? '');
      });
    });
    await alice.react(sent?.key.id ?? '', '👍');
    expect(await reaction).toBe('👍');
  });

  it('edits and deletes a phone message, seen by the client as message updates', async () => {
    const alice = h.sim.phone(ALICE);
    const upsert = h.client.waitForMessage((m) => m.message?.conversation === 'typo hree');
    const original = await alice.sendText('typo hree');
    await upsert;
    const updates: Array<{ id: string; edited?: string | null; revoked: boolean }> = [];
    h.client.on('messages.update', (batch) => {
      for (const u of batch) {
        updates.push({
          id: u.key.id ?? '',
          edited: u.update.message?.editedMessage?.message?.conversation,
          revoked: u.update.message === null,
        });
      }
    });
    await alice.edit(original.id, 'typo here');
    await expect.poll(() => updates.find((u) => u.id === original.id && u.edited)?.edited, { timeout: 10_000 }).toBe('typo here');
    await alice.revoke(original.id);
    await expect.poll(() => updates.some((u) => u.id === original.id && u.revoked), { timeout: 10_000 }).toBe(true);
  });

  it('answers on-WhatsApp checks: registered for fake phones, not for unknown numbers', async () => {
    h.sim.phone(ALICE);
    const results = await h.client.socket.onWhatsApp(ALICE, '4999999999999');
    expect(results?.find((r) => r.jid.startsWith(ALICE))?.exists).toBe(true);
    expect(results?.find((r) => r.jid.startsWith('4999999999999'))?.exists ?? false).toBe(false);
  });

  it('tells the client when its prekeys run low, and the client uploads more', async () => {
    const companion = [...h.sim.account(h.bot).companions.values()][0]!;
    for (const id of [...companion.preKeys.keys()].slice(5)) companion.preKeys.delete(id);
    const before = companion.preKeys.size;
    await h.sim.phone('4915200000099').sendText('new contact takes a prekey');
    await expect.poll(() => companion.preKeys.size, { timeout: 15_000 }).toBeGreaterThan(before);
  });

  it('answers typing indicators and profile-picture lookups', async () => {
    const alice = h.sim.phone(ALICE);
    await h.client.socket.sendPresenceUpdate('composing', alice.jid);
    await expect(h.client.socket.profilePictureUrl(alice.jid)).rejects.toThrow();
  });

  it("shows what the owner types on the bot's own phone as a fromMe message in that chat", async () => {
    const alice = h.sim.phone(ALICE);
    const upsert = h.client.waitForMessage((m) => m.message?.conversation === 'typed on the phone');
    const { id } = await h.sim.primaryPhone(h.bot).sendText(ALICE, 'typed on the phone');
    const message = await upsert;
    expect(message.key.id).toBe(id);
    expect(message.key.fromMe).toBe(true);
    expect(message.key.remoteJid).toBe(alice.jid);
  });

  it('keeps a transcript of the exchange with binary content redacted', () => {
    const transcript = h.sim.transcript();
    expect(transcript).toMatch(/S→C <success /);
    expect(transcript).toMatch(/C→S <message [^\n]*<enc [^>]*>\[\d+ bytes\]<\/enc>/);
  });

  it('leaves no unhandled node and no protocol problem behind', () => {
    expect(h.sim.unhandled.map((u) => u.key)).toEqual([]);
    expect(h.sim.problems).toEqual([]);
  });

  // Last: it leaves a problem behind on purpose.
  it('checks the device identity of every message, also after the same companion sent a valid one', async () => {
    const companion = [...h.sim.account(h.bot).companions.values()][0]!;
    // A first message to a phone the bot has no session with is a pkmsg: it carries one, and it verified.
    const stranger = h.sim.phone(STRANGER);
    await h.client.socket.sendMessage(stranger.jid, { text: 'first contact' });
    expect((await stranger.nextMessage()).encType).toBe('pkmsg');
    expect(companion.verifiedIdentity).toBeDefined();
    const tampered = Buffer.from(companion.verifiedIdentity!);
    // The last field of ADVSignedDeviceIdentity is the device signature.
    tampered[tampered.length - 1]! ^= 1;
    await h.client.socket.sendNode({ tag: 'message', attrs: { to: `${ALICE}@s.whatsapp.net`, id: 'TAMPERED1', type: 'text' }, content: [{ tag: 'device-identity', attrs: {}, content: tampered }] });
    await expect.poll(() => h.sim.problems, { timeout: 10_000 }).toEqual(['message TAMPERED1: device signature does not verify']);
  });
});
