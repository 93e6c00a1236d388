/**
 * Large scratch buffers kept from one conversion to the next. A conversion's frame buffers
 * (a 512² canvas is 1 MiB) freed at its end go back to glibc, which trims or unmaps them,
 * and the next conversion faults the same amount in again: ~250 page faults per MiB, which
 * cost more than the work in VMs with a software MMU (see the README's "Warm-up"). Kept
 * here instead, up to `MAX_KEPT_BYTES` in all; a buffer of another size evicts the others.
 * Buffers come back with their old contents: callers overwrite what they read (or use
 * `takeZeroed`).
 */

/** What the pool holds at most: one video conversion's frames and crops (512² canvases of 1 MiB). */
const MAX_KEPT_BYTES = 16 * 1024 * 1024;

const kept = new Map<number, Buffer[]>();
let keptBytes = 0;

/** A buffer of exactly `bytes` bytes, kept from an earlier conversion if there is one; its contents are undefined. */
export function takeBuffer(bytes: number): Buffer {
  const list = kept.get(bytes);
  const buffer = list?.pop();
  if (buffer !== undefined) {
    keptBytes -= bytes;
    return buffer;
  }
  return Buffer.allocUnsafeSlow(bytes);
}

/** A zero-filled buffer of `bytes` bytes (a kept one is cleared: memset is cheaper than faulting fresh pages). */
export function takeZeroed(bytes: number): Buffer {
  return takeBuffer(bytes).fill(0);
}

/**
 * Gives buffers back for later conversions. The caller must no longer use them, nor let
 * anything else (a running libvips encode) read them.
 */
export function giveBack(buffers: Iterable<Buffer>): void {
  for (const buffer of buffers) {
    // Only whole buffers of their own memory: a view would keep its parent alive and lie about its size.
    if (buffer.byteOffset !== 0 || buffer.length !== buffer.buffer.byteLength) continue;
    if (keptBytes + buffer.length > MAX_KEPT_BYTES) {
      for (const [size, list] of kept) {
        if (size === buffer.length) continue;
        keptBytes -= size * list.length;
        kept.delete(size);
      }
    }
    if (keptBytes + buffer.length > MAX_KEPT_BYTES) continue;
    const list = kept.get(buffer.length) ?? [];
    if (list.includes(buffer)) continue;
    list.push(buffer);
    kept.set(buffer.length, list);
    keptBytes += buffer.length;
  }
}

/** Bytes the pool holds now (for tests). */
export function keptBufferBytes(): number {
  return keptBytes;
}
