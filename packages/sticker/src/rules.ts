/** WhatsApp's own sticker validator, as numbers. */
export const STICKER_RULES = {
  /** Width and height of every sticker, in pixels. */
  size: 512,
  /** Largest static sticker, in bytes. */
  maxStaticBytes: 100_000,
  /** Largest animated sticker, in bytes (iOS has been seen to reject files just above it). */
  maxAnimatedBytes: 500_000,
  /** Longest animated sticker, in milliseconds. */
  maxDurationMs: 10_000,
  /** Shortest frame of an animated sticker, in milliseconds. */
  minFrameMs: 8,
} as const;

/** Byte budget for a sticker. */
export function byteBudget(animated: boolean): number {
  return animated ? STICKER_RULES.maxAnimatedBytes : STICKER_RULES.maxStaticBytes;
}
