import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JournalEntry } from '@stickerbot/protocol';
import type { WAMessage } from '@whiskeysockets/baileys';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/sqlite-database.js';
import { createEventJournaler } from './event-journaler.js';
import type { RegistryEmit } from './event-journaler.js';
import { createSqliteJournal } from '../storage/sqlite-journal.js';
import type { Journal, JournalAppend } from '../storage/index.js';
import { buildTextMessage } from '../test-kit/wa-messages.js';

const logger = pino({ level: 'silent' });

function journalDouble(failOn: (input: JournalAppend) => boolean): Pick<Journal, 'append' | 'hasMessage'> & { entries: JournalEntry[] } {
  const entries: JournalEntry[] = [];
  return {
    entries,
    hasMessage: () => false,
    append(input) {
      if (failOn(input)) throw new Error('SQLITE_FULL: database or disk is full');
      const entry: JournalEntry = { seq: entries.length + 1, sessionId: input.sessionId, ts: 1, event: input.event };
      entries.push(entry);
      return entry;
    },
  };
}

describe('session events', () => {
  it('emits only what reached the journal, and a failed append does not stop the batch', () => {
    const journal = journalDouble((input) => input.event.type === 'message:received' && input.event.message.text === 'doomed');
    const emitted: string[] = [];
    const emit: RegistryEmit = (event, ...args) => {
      const [payload] = args;
      emitted.push(event === 'journaled' ? `journaled:${(payload as JournalEntry).seq}` : event);
    };
    const events = createEventJournaler({ sessionId: 's', journal, emit, logger, selfJid: () => undefined });
    events.upsert({
      type: 'notify',
      messages: [
        buildTextMessage({ from: '4915100000001', text: 'first' }),
        buildTextMessage({ from: '4915100000001', text: 'doomed' }),
        buildTextMessage({ from: '4915100000001', text: 'third' }),
      ],
    });
    expect(journal.entries.map((e) => (e.event.type === 'message:received' ? e.event.message.text : ''))).toEqual(['first', 'third']);
    expect(emitted).toEqual(['journaled:1', 'message:received', 'journaled:2', 'message:received']);
  });

  it('appends an upsert batch in one appendMany call, and one by one if the batch fails', () => {
    const journal = journalDouble(() => false);
    const batches: number[] = [];
    let failBatch = false;
    const withBatch = {
      ...journal,
      appendMany(inputs: readonly JournalAppend[]) {
        batches.push(inputs.length);
        if (failBatch) throw new Error('SQLITE_BUSY');
        return inputs.map((input) => journal.append(input));
      },
    };
    const events = createEventJournaler({ sessionId: 's', journal: withBatch, emit: () => undefined, logger, selfJid: () => undefined });
    const batch = () => ({ type: 'append' as const, messages: [buildTextMessage({ from: '1', text: 'a' }), buildTextMessage({ from: '1', text: 'b' })] });
    events.upsert(batch());
    failBatch = true;
    events.upsert(batch());
    expect(batches).toEqual([2, 2]);
    expect(journal.entries.map((e) => (e.event.type === 'message:received' ? [e.event.message.text, e.event.message.backlog] : []))).toEqual([
      ['a', true],
      ['b', true],
      ['a', true],
      ['b', true],
    ]);
  });

  it('treats a server receipt of an own message as its server ack', () => {
    const journal = journalDouble(() => false);
    const acks: string[] = [];
    const events = createEventJournaler({ sessionId: 's', journal, emit: () => undefined, logger, selfJid: () => undefined, onServerAck: (id) => acks.push(id) });
    events.update([
      { key: { remoteJid: '1@s.whatsapp.net', id: 'MINE', fromMe: true }, update: { status: 2 } },
      { key: { remoteJid: '1@s.whatsapp.net', id: 'THEIRS', fromMe: false }, update: { status: 4 } },
    ]);
    expect(acks).toEqual(['MINE']);
    expect(journal.entries).toHaveLength(2);
  });

  it('journals a message before its receipt and skips the upsert Baileys emits for it afterwards', () => {
    const journal = journalDouble(() => false);
    const emitted: string[] = [];
    const events = createEventJournaler({ sessionId: 's', journal, emit: (event, ..._args) => void emitted.push(event), logger, selfJid: () => undefined });
    const early = buildTextMessage({ from: '4915100000001', text: 'before the receipt' });
    const made = buildTextMessage({ from: '4915100000001', text: 'only upserted' });
    void events.received(early, 'append');
    expect(journal.entries).toHaveLength(1);
    events.upsert({ type: 'append', messages: [early, made] });
    events.upsert({ type: 'notify', messages: [early] });
    expect(journal.entries.map((e) => (e.event.type === 'message:received' ? [e.event.message.text, e.event.message.backlog] : []))).toEqual([
      ['before the receipt', true],
      ['only upserted', true],
      // Skipped once: an upsert of the same id that comes again is a new delivery.
      ['before the receipt', false],
    ]);
    expect(emitted.filter((event) => event === 'journaled')).toHaveLength(3);
  });

  it('refuses (throws) a message the journal cannot take, and tells no one about it', () => {
    const journal = journalDouble(() => true);
    const emitted: string[] = [];
    const events = createEventJournaler({ sessionId: 's', journal, emit: (event, ..._args) => void emitted.push(event), logger, selfJid: () => undefined });
    expect(() => events.received(buildTextMessage({ from: '1', text: 'x' }), 'notify')).toThrow(/SQLITE_FULL/);
    expect(emitted).toEqual([]);
  });

  it('does not journal a message twice when WhatsApp delivers it again after a restart (real SQLite journal)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stickerbot-event-journaler-'));
    try {
      const message = buildTextMessage({ from: '4915100000001', text: 'journaled, then the daemon died before the receipt' });
      const open = () => {
        const db = openDatabase(join(dir, 'daemon.sqlite'));
        return { db, journal: createSqliteJournal(db) };
      };
      const first = open();
      void createEventJournaler({ sessionId: 's', journal: first.journal, emit: () => undefined, logger, selfJid: () => undefined }).received(message, 'notify');
      first.db.close();
      const second = open();
      const events = createEventJournaler({ sessionId: 's', journal: second.journal, emit: () => undefined, logger, selfJid: () => undefined });
      void events.received(structuredClone(message), 'append');
      events.upsert({ type: 'append', messages: [structuredClone(message)] });
      expect(second.journal.readAfter(0, 10)).toHaveLength(1);
      second.journal.close();
      second.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('journals a reaction, an edit and a delete before their receipts, once, and still journals an update that differs', () => {
    const journal = journalDouble(() => false);
    const events = createEventJournaler({ sessionId: 's', journal, emit: () => undefined, logger, selfJid: () => '4915100000009@s.whatsapp.net' });
    const chat = '4915100000001@s.whatsapp.net';
    const target = { remoteJid: chat, fromMe: true, id: 'BOTREPLY' };
    const from = (id: string, message: WAMessage['message']): WAMessage => ({ key: { remoteJid: chat, fromMe: false, id }, message, messageTimestamp: 1_700_000_000 });
    const reaction = from('R1', { reactionMessage: { key: target, text: '👍', senderTimestampMs: 1_700_000_000_000 } });
    const edit = from('E1', { protocolMessage: { type: 14, key: { remoteJid: chat, fromMe: false, id: 'ORIG' }, editedMessage: { conversation: 'fixed' } } });
    const revoke = from('D1', { protocolMessage: { type: 0, key: { remoteJid: chat, fromMe: false, id: 'ORIG' } } });
    for (const raw of [reaction, edit, revoke]) void events.received(raw, 'append');
    expect(journal.entries.map((e) => e.event.type)).toEqual(['reaction:received', 'message:updated', 'message:updated']);
    // What Baileys emits for them afterwards (process-message.js), then a receipt of the bot's reply.
    events.upsert({ type: 'append', messages: [reaction, edit, revoke] });
    events.reaction([{ key: target, reaction: { ...reaction.message?.reactionMessage, key: reaction.key } }]);
    events.update([
      { key: { remoteJid: chat, fromMe: false, id: 'ORIG' }, update: { message: { editedMessage: { message: { conversation: 'fixed' } } }, messageTimestamp: 1_700_000_000 } },
      { key: { remoteJid: chat, fromMe: false, id: 'ORIG' }, update: { message: null, messageStubType: 1, key: revoke.key } },
      { key: target, update: { status: 4 } },
    ]);
    expect(journal.entries.map((e) => JSON.stringify(e.event))).toEqual([
      JSON.stringify({ type: 'reaction:received', messageId: 'BOTREPLY', chat, sender: chat, emoji: '👍', timestamp: 1_700_000_000_000 }),
      JSON.stringify({ type: 'message:updated', id: 'ORIG', chat, fromMe: false, editedText: 'fixed' }),
      JSON.stringify({ type: 'message:updated', id: 'ORIG', chat, fromMe: false, deleted: true }),
      JSON.stringify({ type: 'message:updated', id: 'BOTREPLY', chat, fromMe: true, status: 'read' }),
    ]);
  });
});
