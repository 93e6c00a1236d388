import { z } from 'zod';
import { toWireError, wireErrorSchema, type WireError } from './errors.js';

/** The answer to every command: a result, or a wire error. */
export type Result<T> = { ok: true; result: T } | { ok: false; error: WireError };

/** A successful {@link Result}. */
export function ok<T>(result: T): Result<T> {
  return { ok: true, result };
}

/** A failed {@link Result} from anything thrown (see {@link toWireError}). */
export function fail(thrown: unknown): { ok: false; error: WireError } {
  return { ok: false, error: toWireError(thrown) };
}

/** Zod schema of a {@link Result} whose success value matches `schema`. */
export function resultSchema<T extends z.ZodType>(schema: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), result: schema }),
    z.object({ ok: z.literal(false), error: wireErrorSchema }),
  ]);
}
