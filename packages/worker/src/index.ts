export { ConfigError, LOG_LEVELS, loadConfig, type WorkerConfig } from './config.js';
export { createLogger } from './logger.js';
export { openBotDatabase, type BotDatabase } from './db/bot-database.js';
export type { Catalogue, CatalogueSticker, CatalogueTotals, NewSticker } from './db/catalogue.js';
export type { HandledMessage, ProgressStore, RememberedMessage } from './db/progress-store.js';
export type { PackDefaults, SettingsStore } from './db/settings-store.js';
export type { CommandCount, StatsStore } from './db/stats-store.js';
