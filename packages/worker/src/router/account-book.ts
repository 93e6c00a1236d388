import type { Account } from '@stickerbot/protocol';

/** The WhatsApp accounts of the daemon's sessions, as learned from `session:changed` events. */
export interface AccountBook {
  set(sessionId: string, account: Account | undefined): void;
  get(sessionId: string): Account | undefined;
}

/** An in-memory {@link AccountBook}. */
export function createAccountBook(): AccountBook {
  const accounts = new Map<string, Account>();
  return {
    set(sessionId, account) {
      if (account) accounts.set(sessionId, account);
    },
    get: (sessionId) => accounts.get(sessionId),
  };
}
