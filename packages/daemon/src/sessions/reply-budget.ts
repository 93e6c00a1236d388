/**
 * The burst budget of replies (see the daemon README, "Pacing"): a token bucket per chat
 * and one for the whole session. A reply that finds a token in both goes out at once; one
 * that does not waits for the normal spacing, like any other send.
 */
import { createTokenBuckets } from '@stickerbot/runtime';

/** Sizes of the reply budget. */
export interface ReplyBudgetOptions {
  /** Replies to one chat that may go out back to back (default 5). */
  replyBurst: number;
  /** Replies per second one chat's budget regains (default 0.5: one every 2 s). */
  replyRefillPerSecond: number;
  /** Replies across all chats of the session that may go out back to back (default 10). */
  sessionReplyBurst: number;
  /** Replies per second the session's budget regains (default 2). */
  sessionReplyRefillPerSecond: number;
}

/** A session's reply budget. */
export interface ReplyBudget {
  /** Whether a reply to `chat` may go out at `now` without spacing. */
  available(chat: string, now: number): boolean;
  /** Spends one token of `chat` and one of the session (call only after {@link available}). */
  spend(chat: string, now: number): void;
}

/** Creates a session's reply budget; every bucket starts full. */
export function createReplyBudget(options: ReplyBudgetOptions): ReplyBudget {
  const chats = createTokenBuckets({ capacity: options.replyBurst, refillPerSecond: options.replyRefillPerSecond });
  const session = createTokenBuckets({ capacity: options.sessionReplyBurst, refillPerSecond: options.sessionReplyRefillPerSecond });
  return {
    available: (chat, now) => chats.level(chat, now) >= 1 && session.level('', now) >= 1,
    spend(chat, now) {
      chats.spend(chat, now);
      session.spend('', now);
    },
  };
}
