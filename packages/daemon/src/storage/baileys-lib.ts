import { createRequire } from 'node:module';
import type * as BaileysModule from '@whiskeysockets/baileys';

type Baileys = typeof BaileysModule;

const requireModule = createRequire(import.meta.url);
// The loaded library: a handle to a module, not application state (hot paths read it).
let loaded: Baileys | undefined;

/**
 * Loads Baileys; the session registry awaits it before a session's first connection. A
 * daemon with no session never loads it: the library and its protobuf definitions are
 * about 60 MB of the process's memory.
 */
export async function loadBaileys(): Promise<Baileys> {
  loaded ??= await import('@whiskeysockets/baileys');
  return loaded;
}

/**
 * Baileys, for code that runs once a session exists. Loaded by {@link loadBaileys} first; a
 * call before it (a stored message read while no session was ever started) loads it here,
 * synchronously, with Node's `require` of an ES module (plain Node 20.19 and later; tsx's
 * loader cannot, which is why sessions await `loadBaileys`).
 */
export function baileys(): Baileys {
  loaded ??= requireModule('@whiskeysockets/baileys') as Baileys;
  return loaded;
}
