/**
 * How Baileys' auth state is stored, whatever the store (SQLite here, Redis in cluster mode):
 * values serialised in Baileys' `BufferJSON` format (our copy, buffer-json.ts: key pairs and Signal sessions come back as
 * Buffers), `app-state-sync-key` values revived as their protobuf class, and the LID → phone
 * lookup over Baileys' `lid-mapping` keys.
 */
import type { AuthenticationCreds, SignalDataTypeMap } from '@whiskeysockets/baileys';
import { baileys } from './baileys-lib.js';
import { parseWithBuffers, stringifyWithBuffers } from './buffer-json.js';

/** Serialises an auth value (creds or a Signal key) in `BufferJSON`'s format. */
export const encodeAuthValue = stringifyWithBuffers;

/** Parses a stored auth value back, Buffers included. */
export const decodeAuthValue = parseWithBuffers;

/** A stored Signal key of `type` as Baileys expects it back from `keys.get`. */
export function decodeSignalKey<T extends keyof SignalDataTypeMap>(type: T, text: string): SignalDataTypeMap[T] {
  const value = decodeAuthValue(text);
  return (type === 'app-state-sync-key' ? baileys().proto.Message.AppStateSyncKeyData.fromObject(value as Record<string, unknown>) : value) as SignalDataTypeMap[T];
}

/** Whether creds completed a login (they name the account). */
export function credsLoggedIn(creds: Partial<AuthenticationCreds>): boolean {
  return typeof creds.me?.id === 'string' && creds.me.id.length > 0;
}

/**
 * The `lid-mapping` key id under which Baileys' LIDMappingStore keeps a LID's phone user:
 * it stores `<pn user>` → `<lid user>` and `<lid user>_reverse` → `<pn user>`, users without
 * device or domain (Baileys lib/Signal/lid-mapping.js). `undefined` for what is not a LID.
 */
export function lidReverseKeyId(lid: string): string | undefined {
  const lidUser = /^([^:@]+)(?::\d+)?@lid$/.exec(lid)?.[1];
  return lidUser === undefined ? undefined : `${lidUser}_reverse`;
}

/** The phone-number JID a stored `<lid user>_reverse` value names, if it is a phone user. */
export function phoneJidOfMapping(stored: string): string | undefined {
  const pnUser = decodeAuthValue(stored);
  return typeof pnUser === 'string' && /^\d{6,20}$/.test(pnUser) ? `${pnUser}@s.whatsapp.net` : undefined;
}
