/**
 * The part of `@stickerbot/sticker`'s API the worker uses (see /work/sticker-api.md). The
 * real engine satisfies it; keeping the port here lets the router be tested with a fake.
 */
export type StickerShape = 'fit' | 'crop' | 'circle' | 'rounded';

/** Options of a conversion. */
export interface StickerPortOptions {
  shape?: StickerShape;
  pack?: string;
  author?: string;
  emojis?: string[];
  signal?: AbortSignal;
}

/** A made sticker. */
export interface StickerPortResult {
  data: Buffer;
  animated: boolean;
  bytes: number;
}

/** The sticker engine as the worker sees it. */
export interface StickerPort {
  toSticker(input: Uint8Array, options?: StickerPortOptions): Promise<StickerPortResult>;
  retag(sticker: Uint8Array, metadata: { packName?: string; publisher?: string }): Promise<StickerPortResult>;
  fromText(text: string, options?: StickerPortOptions): Promise<StickerPortResult>;
  toImage(sticker: Uint8Array, options?: { signal?: AbortSignal }): Promise<{ data: Buffer; mimetype: 'image/png' | 'video/mp4' }>;
  close(): Promise<void>;
}

/** The sticker engine's typed error, recognised by shape (its `code` names what went wrong). */
export interface StickerFailure extends Error {
  code: string;
}

/** Whether `error` is the sticker engine's `StickerError`. */
export function isStickerFailure(error: unknown): error is StickerFailure {
  return error instanceof Error && error.name === 'StickerError' && typeof (error as { code?: unknown }).code === 'string';
}
