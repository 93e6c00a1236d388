import { createCatalogue, type Catalogue } from './catalogue.js';
import { openDatabase, type Db } from './database.js';
import { createProgressStore, type ProgressStore } from './progress-store.js';
import { createSettingsStore, type SettingsStore } from './settings-store.js';
import { createStatsStore, type StatsStore } from './stats-store.js';

/** The bot's own database (`<dataDir>/worker.sqlite`) and its repositories. */
export interface BotDatabase {
  readonly db: Db;
  readonly progress: ProgressStore;
  readonly settings: SettingsStore;
  readonly catalogue: Catalogue;
  readonly stats: StatsStore;
  /** Forgets handled message ids and sent-sticker ids older than `maxAgeMs`. */
  prune(maxAgeMs: number): { messages: number; sent: number };
  close(): void;
}

/** Opens and migrates the bot database at `file` for consumer group `group`. */
export function openBotDatabase(file: string, group: string, now: () => number = Date.now): BotDatabase {
  const db = openDatabase(file);
  const catalogue = createCatalogue(db, now);
  const progress = createProgressStore(db, group, now);
  return {
    db,
    progress,
    settings: createSettingsStore(db, now),
    catalogue,
    stats: createStatsStore(db, now),
    prune(maxAgeMs) {
      const cutoff = now() - maxAgeMs;
      return { messages: progress.prune(cutoff), sent: catalogue.pruneSent(cutoff) };
    },
    close: () => db.close(),
  };
}
