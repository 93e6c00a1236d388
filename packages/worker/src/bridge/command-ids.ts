import { createHash } from 'node:crypto';
import { MAX_COMMAND_ID_LENGTH } from '@stickerbot/protocol';

/**
 * Deterministic command ids for the work triggered by one journal entry: `w.<base>.<n>`
 * for the n-th command, where `base` is the triggering message id (or the entry's seq).
 * A restarted worker that handles the same entry again issues the same ids in the same
 * order, so the daemon's idempotency turns a repeated send into its recorded result.
 * Sends that a run may or may not make depending on timing (the ⏳ reaction shown only
 * for slow work) take a named id instead, so they never shift the numbered sequence.
 */
export interface CommandIds {
  /** The id of the next command. */
  next(): string;
  /** The id of a send named `label` (a short word such as `wait`), the same in every run. */
  named(label: string): string;
}

/** Makes the id sequence for `base` (e.g. `default:3EB0C4F1A2`). */
export function createCommandIds(base: string): CommandIds {
  const safe = base.replace(/[^\w.:-]/g, '_');
  const prefix = safe.length + 16 <= MAX_COMMAND_ID_LENGTH ? safe : createHash('sha256').update(base).digest('hex').slice(0, 40);
  let n = 0;
  return { next: () => `w.${prefix}.${++n}`, named: (label) => `w.${prefix}.${label}` };
}
