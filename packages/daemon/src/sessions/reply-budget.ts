/**
 * The burst budget of replies (see the daemon README, "Pacing"): a token bucket per chat
 * and one for the whole session. A reply that finds a token in both goes out at once; one
 * that does not waits for the normal spacing, like any other send.
 */

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

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets of chats kept before full ones (which are the same as no bucket) are dropped. */
const PRUNE_ABOVE = 1_000;

/** Creates a session's reply budget; every bucket starts full. */
export function createReplyBudget(options: ReplyBudgetOptions): ReplyBudget {
  const chats = new Map<string, Bucket>();
  const session: Bucket = { tokens: options.sessionReplyBurst, at: 0 };

  function level(bucket: Bucket | undefined, capacity: number, perSecond: number, now: number): number {
    if (!bucket) return capacity;
    return Math.min(capacity, bucket.tokens + (Math.max(0, now - bucket.at) * perSecond) / 1000);
  }
  const chatLevel = (chat: string, now: number) => level(chats.get(chat), options.replyBurst, options.replyRefillPerSecond, now);
  const sessionLevel = (now: number) => level(session, options.sessionReplyBurst, options.sessionReplyRefillPerSecond, now);

  function prune(now: number): void {
    if (chats.size <= PRUNE_ABOVE) return;
    for (const chat of chats.keys()) if (chatLevel(chat, now) >= options.replyBurst) chats.delete(chat);
  }

  return {
    available: (chat, now) => chatLevel(chat, now) >= 1 && sessionLevel(now) >= 1,
    spend(chat, now) {
      chats.set(chat, { tokens: chatLevel(chat, now) - 1, at: now });
      session.tokens = sessionLevel(now) - 1;
      session.at = now;
      prune(now);
    },
  };
}
