import type { Account } from '../directory/accounts.js';

/**
 * The Signal address a fake phone uses for a companion device of `account`. The name is the
 * emulator's own choice: only the fake phone's session store sees it.
 */
export const companionAddress = (account: Account, deviceId: number): string => `${account.lid}@lid.${deviceId}`;

/** Parses the device number out of `user:device@server` (0 when absent). */
export const deviceOfJid = (jid: string): number => Number(jid.split('@')[0]?.split(':')[1] ?? 0);
