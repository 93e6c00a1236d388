import type { JournalEntry } from '@stickerbot/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createSessionEvents } from './session-events.js';
import type { RegistryEmit } from './session-events.js';
import type { Journal, JournalAppend } from './stores.js';
import { buildTextMessage } from './test-kit/wa-messages.js';

const logger = pino({ level: 'silent' });

function journalDouble(failOn: (input: JournalAppend) => boolean): Pick<Journal, 'append'> & { entries: JournalEntry[] } {
  const entries: JournalEntry[] = [];
  return {
    entries,
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
    const events = createSessionEvents({ sessionId: 's', journal, emit, logger, selfJid: () => undefined });
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
    const events = createSessionEvents({ sessionId: 's', journal: withBatch, emit: () => undefined, logger, selfJid: () => undefined });
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
    const events = createSessionEvents({ sessionId: 's', journal, emit: () => undefined, logger, selfJid: () => undefined, onServerAck: (id) => acks.push(id) });
    events.update([
      { key: { remoteJid: '1@s.whatsapp.net', id: 'MINE', fromMe: true }, update: { status: 2 } },
      { key: { remoteJid: '1@s.whatsapp.net', id: 'THEIRS', fromMe: false }, update: { status: 4 } },
    ]);
    expect(acks).toEqual(['MINE']);
    expect(journal.entries).toHaveLength(2);
  });
});
