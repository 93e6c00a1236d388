/**
 * Which partition stream an event goes to: FNV-1a (32 bit) of `<sessionId>\0<chat>` mod the
 * partition count. Every event of one chat of one session lands in one stream, so the stream's
 * order is the chat's order. The hash is part of the stored data's meaning: changing it (or
 * the partition count, which the journal pins in Redis) would split a chat across streams.
 */

/** The default number of partition streams. */
export const DEFAULT_PARTITIONS = 16;
/** The most partitions a journal may have (each is one stream and one lease per group). */
export const MAX_PARTITIONS = 1024;


/** The partition of (session, chat) among `partitions`; a session event uses chat `''`. */
export function partitionOf(sessionId: string, chat: string | undefined, partitions: number): number {
  const key = `${sessionId}\u0000${chat ?? ''}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/** Checks a partition count (1 to {@link MAX_PARTITIONS}). */
export function isValidPartitionCount(partitions: number): boolean {
  return Number.isSafeInteger(partitions) && partitions >= 1 && partitions <= MAX_PARTITIONS;
}
