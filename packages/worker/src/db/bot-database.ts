import { openDatabase, type SqliteDatabase } from '@stickerbot/runtime';
import { createCatalogue, type Catalogue } from './catalogue.js';
import { createPackStore, type PackStore } from './pack-store.js';
import { createProgressStore, type ProgressStore } from './progress-store.js';
import { createSettingsStore, type SettingsStore } from './settings-store.js';
import { createStatsStore, type StatsStore } from './stats-store.js';

/** The bot's own database (`<dataDir>/worker.sqlite`) and its repositories. */
export interface BotDatabase {
  readonly db: SqliteDatabase;
  readonly progress: ProgressStore;
  readonly settings: SettingsStore;
  readonly catalogue: Catalogue;
  readonly packs: PackStore;
  readonly stats: StatsStore;
  /** Forgets handled message ids and sent-sticker ids older than `maxAgeMs`. */
  prune(maxAgeMs: number): { messages: number; sent: number };
  close(): void;
}

/** The bot database's numbered migrations (copied to dist/ by the package build). */
export const BOT_MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/** Opens and migrates the bot database at `file` for consumer group `group`. */
export function openBotDatabase(file: string, group: string, now: () => number = Date.now): BotDatabase {
  const db = openDatabase(file, { migrationsDir: BOT_MIGRATIONS_DIR });
  const catalogue = createCatalogue(db, now);
  const progress = createProgressStore(db, group, now);
  return {
    db,
    progress,
    settings: createSettingsStore(db, now),
    catalogue,
    packs: createPackStore(db, now),
    stats: createStatsStore(db, now),
    prune(maxAgeMs) {
      const cutoff = now() - maxAgeMs;
      return { messages: progress.prune(cutoff), sent: catalogue.pruneSent(cutoff) };
    },
    close: () => db.close(),
  };
}
