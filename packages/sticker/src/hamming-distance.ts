/**
 * How many bits two 16-hex-digit hashes (perceptual-hash.ts) differ in, 0 to 64. Its own
 * module, without sharp, so the worker can compare hashes without loading the engine.
 */
export function hammingDistance(a: string, b: string): number {
  let bits = 0;
  // Two 32-bit halves: plain numbers, no BigInt, on the worker's event loop.
  for (const at of [0, 8]) {
    let diff = (Number.parseInt(a.slice(at, at + 8), 16) ^ Number.parseInt(b.slice(at, at + 8), 16)) >>> 0;
    while (diff !== 0) {
      diff &= diff - 1;
      bits += 1;
    }
  }
  return bits;
}
