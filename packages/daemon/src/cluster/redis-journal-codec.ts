/**
 * One journal entry as a Redis stream entry, and back. Id `<seq>-0` (the protocol's `seq`
 * is the stream id, so positions map to ids); fields `s` (session id), `t` (journaled at,
 * epoch ms), `e` (the event, JSON), and for a message with its raw `WAMessage` `m` (the
 * message id, to drop its index row when the entry is trimmed) and `r` (the raw message,
 * `encodeRawMessage`). Reading is the trust boundary (another daemon, maybe of another
 * version, wrote the entry): anything else is a typed `JOURNAL_ENTRY_MALFORMED`.
 */
import { describeZodError, journalEntrySchema, type JournalEntry } from '@stickerbot/protocol';
import { ClusterError } from './redis-connection.js';

/** An entry read from a partition stream. */
export interface PartitionedEntry extends JournalEntry {
  /** The partition stream it was read from. */
  partition: number;
}

const ID_PATTERN = /^([1-9][0-9]{0,15})-0$/;

/** The stream id of `seq`. */
export const streamIdOf = (seq: number): string => `${seq}-0`;

/** The `seq` of a stream id, or a typed error for an id the journal did not write. */
export function seqOfStreamId(id: string, partition: number): number {
  const match = ID_PATTERN.exec(id);
  const seq = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(seq)) {
    throw new ClusterError('JOURNAL_ENTRY_MALFORMED', `partition ${partition}: stream id "${id}" is not a journal id (<seq>-0)`);
  }
  return seq;
}

/** Reads the fields of one stream entry (`[field, value, field, value, …]`) into a validated entry. */
export function decodeStreamEntry(id: string, fields: readonly string[], partition: number): PartitionedEntry {
  const seq = seqOfStreamId(id, partition);
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] as string, fields[i + 1] as string);
  const fail = (reason: string, cause?: unknown): never => {
    throw new ClusterError('JOURNAL_ENTRY_MALFORMED', `partition ${partition}, entry ${id}: ${reason}`, { cause });
  };
  const sessionId = values.get('s');
  const ts = Number(values.get('t'));
  const eventText = values.get('e');
  if (sessionId === undefined || eventText === undefined || values.get('t') === undefined) fail('missing field s, t or e');
  let event: unknown;
  try {
    event = JSON.parse(eventText as string);
  } catch (cause) {
    fail('the event is not JSON', cause);
  }
  const parsed = journalEntrySchema.safeParse({ seq, sessionId, ts, event });
  if (!parsed.success) return fail(describeZodError(parsed.error));
  return { ...parsed.data, partition };
}

/** The raw message field of a stream entry's fields, if any. */
export function rawFieldOf(fields: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'r') return fields[i + 1];
  return undefined;
}
