/**
 * Idempotency by command id (DESIGN §3 Commands) answers a repeated id with the recorded
 * outcome; that is only right when the repeat asks for the same thing. Every recorded or
 * queued command therefore carries a hash of its validated arguments, and a repeat whose
 * hash differs is refused with `IDEMPOTENCY_CONFLICT` instead of being handed another
 * command's result.
 */
import { createHash } from 'node:crypto';
import { StickerbotError } from '@stickerbot/protocol';

/**
 * Stable JSON of validated arguments: object keys sorted, `undefined` members left out
 * (as JSON does), binary replaced by the SHA-256 of its bytes, so that a `Buffer` and a
 * `Uint8Array` with the same content (and the same arguments read back from the outbox
 * after a restart) canonicalise alike.
 */
function canonical(value: unknown): string {
  if (value instanceof Uint8Array) {
    return JSON.stringify({ $bytes: createHash('sha256').update(value).digest('hex') });
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item === undefined ? null : item)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The hash a command's validated arguments are recorded with (hex SHA-256 of their canonical form). */
export function commandArgsHash(args: unknown): string {
  return createHash('sha256').update(canonical(args)).digest('hex');
}

/** What a repeated id is compared with: the op and arguments hash it was first used with. */
export interface FirstUse {
  op: string;
  /** Absent for records written before arguments were hashed (migration 004): treated as matching. */
  argsHash?: string | undefined;
}

/**
 * The refusal for a command id already used by `first`, or undefined when this repeat
 * (same op, same arguments) may be answered with the first use's outcome.
 */
export function idempotencyConflict(id: string, op: string, argsHash: string, first: FirstUse): StickerbotError | undefined {
  if (first.op !== op) {
    return new StickerbotError('IDEMPOTENCY_CONFLICT', `command id ${id} was already used for ${first.op}, not ${op}; use a new id`);
  }
  if (first.argsHash !== undefined && first.argsHash !== argsHash) {
    return new StickerbotError('IDEMPOTENCY_CONFLICT', `command id ${id} was already used for ${op} with other arguments; use a new id`);
  }
  return undefined;
}
