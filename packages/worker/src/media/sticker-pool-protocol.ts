import type { StickerEngine } from '@stickerbot/sticker';

/** The engine calls a pool member runs: every StickerEngine method but close(). */
export type MemberCall = Exclude<keyof StickerEngine, 'close'>;

/** Sent to a member: one call, its arguments without the AbortSignal (the pool cancels by killing). */
export interface JobMessage {
  id: number;
  call: MemberCall;
  args: unknown[];
}

/** A StickerError or other Error, as plain data across the process boundary. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}

/** Sent by a member: `ready` once the engine is loaded, then one answer per job. */
export type MemberMessage = { type: 'ready' } | { type: 'done'; id: number; value: unknown } | { type: 'failed'; id: number; error: WireError };

/** What the pool passes a member (as its one argument, JSON). */
export interface MemberOptions {
  maxInputBytes: number;
  ffmpegPath: string | undefined;
  searchPath: string | undefined;
}
