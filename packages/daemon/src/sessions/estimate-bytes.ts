/**
 * A rough estimate of the heap a value holds, for the per-session memory metric: V8 offers
 * no way to attribute a heap's bytes to the object graph one session owns, so the daemon
 * weighs what its caches keep as they store it. Strings count a byte a character plus a
 * header, binary data its bytes plus its ArrayBuffer's header, objects and arrays a header
 * and a slot a property; shared and cyclic references count once. An order of magnitude
 * to compare sessions with, not a measurement.
 */

const HEADER = 16;
const SLOT = 8;
const BUFFER_HEADER = 80;
/** Deeper than any Signal record or group metadata: a cut-off, not a limit met in practice. */
const MAX_DEPTH = 12;

/** Estimated bytes of `value` and everything it references. */
export function estimateBytes(value: unknown): number {
  const seen = new Set<object>();
  const weigh = (item: unknown, depth: number): number => {
    switch (typeof item) {
      case 'string':
        return HEADER + item.length;
      case 'number':
      case 'boolean':
      case 'undefined':
        return SLOT;
      case 'bigint':
        return HEADER + SLOT;
      case 'object': {
        if (item === null) return SLOT;
        if (seen.has(item)) return SLOT;
        seen.add(item);
        if (ArrayBuffer.isView(item)) return BUFFER_HEADER + item.byteLength;
        if (depth >= MAX_DEPTH) return HEADER;
        if (Array.isArray(item)) {
          let sum = HEADER + SLOT * item.length;
          for (const element of item as unknown[]) sum += weigh(element, depth + 1);
          return sum;
        }
        let sum = HEADER;
        for (const [key, child] of Object.entries(item)) sum += SLOT + key.length + weigh(child, depth + 1);
        return sum;
      }
      default:
        return SLOT;
    }
  };
  return weigh(value, 0);
}
