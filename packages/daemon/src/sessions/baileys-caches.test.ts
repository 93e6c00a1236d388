/**
 * The caches Baileys keeps inside a socket that its options cannot replace, bounded by our
 * patch (patches/@whiskeysockets__baileys@7.0.0-rc14.patch): each filled past its bound
 * stays at it, and what it dropped is still answered from where it came from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addTransactionCapability } from '@whiskeysockets/baileys';
import { LID_MAPPING_CACHE_MAX, LIDMappingStore } from '@whiskeysockets/baileys/lib/Signal/lid-mapping.js';
import { MIGRATED_SESSION_CACHE_MAX, makeMigratedSessionCache } from '@whiskeysockets/baileys/lib/Signal/libsignal.js';
import { MessageRetryManager, RETRY_TRACKING_MAX } from '@whiskeysockets/baileys/lib/Utils/message-retry-manager.js';
import { createLogger } from '@stickerbot/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../storage/index.js';

const logger = createLogger({ service: 'test', level: 'silent' });
/** The size of a private LRU cache of a Baileys object. */
const sizeOf = (owner: object, field: string): number => (owner as Record<string, { size: number }>)[field]?.size ?? Number.NaN;

let dir: string | undefined;
let storage: Storage | undefined;
afterEach(() => {
  storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  storage = undefined;
  dir = undefined;
});

describe("Baileys' own caches, bounded by the patch", () => {
  it('keeps at most LID_MAPPING_CACHE_MAX LID mappings in memory and reads a dropped one back from the key store', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stickerbot-lid-cache-'));
    storage = openStorage(dir);
    const { state } = storage.auth.open('main');
    const keys = addTransactionCapability(state.keys, logger, { maxCommitRetries: 1, delayBetweenTriesMs: 1 });
    const store = new LIDMappingStore(keys, logger);
    const contacts = LID_MAPPING_CACHE_MAX; // two entries each (pn → lid, lid → pn): twice the bound
    const pairs = Array.from({ length: contacts }, (_, i) => ({ lid: `${900_000 + i}@lid`, pn: `49151${String(i).padStart(6, '0')}@s.whatsapp.net` }));
    for (let i = 0; i < pairs.length; i += 500) await store.storeLIDPNMappings(pairs.slice(i, i + 500));
    expect(sizeOf(store, 'mappingCache')).toBe(LID_MAPPING_CACHE_MAX);
    // The first contacts went out of the cache; the key store still answers for them.
    expect(await store.getLIDForPN(pairs[0]?.pn ?? '')).toBe(pairs[0]?.lid);
    expect(storage.auth.phoneOfLid('main', pairs[1]?.lid ?? '')).toBe(pairs[1]?.pn);
    expect(sizeOf(store, 'mappingCache')).toBe(LID_MAPPING_CACHE_MAX);
  });

  it('keeps at most MIGRATED_SESSION_CACHE_MAX migrated-session markers', () => {
    const cache = makeMigratedSessionCache();
    for (let i = 0; i < MIGRATED_SESSION_CACHE_MAX * 2; i += 1) cache.set(`${i}@lid`, true);
    expect(cache.size).toBe(MIGRATED_SESSION_CACHE_MAX);
    // Least recently used out first.
    expect(cache.get('0@lid')).toBeUndefined();
    expect(cache.get(`${MIGRATED_SESSION_CACHE_MAX * 2 - 1}@lid`)).toBe(true);
  });

  it('keeps at most RETRY_TRACKING_MAX retry counters and session-recreation times', () => {
    const manager = new MessageRetryManager(logger, 5);
    for (let i = 0; i < RETRY_TRACKING_MAX * 3; i += 1) {
      manager.incrementRetryCount(`MSG${i}`);
      manager.shouldRecreateSession(`${i}@s.whatsapp.net`, false);
    }
    expect(sizeOf(manager, 'retryCounters')).toBe(RETRY_TRACKING_MAX);
    expect(sizeOf(manager, 'sessionRecreateHistory')).toBe(RETRY_TRACKING_MAX);
    expect(manager.getRetryCount(`MSG${RETRY_TRACKING_MAX * 3 - 1}`)).toBe(1);
    expect(manager.getRetryCount('MSG0')).toBe(0);
  });
});
