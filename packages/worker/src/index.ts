export { loadConfig, type WorkerConfig } from './config.js';
export { createWorker, type Worker, type WorkerDeps } from './worker.js';
export {
  createBridgeClient,
  type BridgeClient,
  type BridgeClientOptions,
  type CommandOptions,
  type CommandSender,
} from './bridge/bridge-client.js';
export { createCommandIds, type CommandIds } from './bridge/command-ids.js';
export { createEventPump, type EntryHandler, type EventPump, type EventPumpOptions, type StopOutcome } from './bridge/event-pump.js';
export { COMMANDS } from './commands/index.js';
export { createRouter, phoneOf, type Router, type RouterOptions } from './router/router.js';
export { createCommandRegistry, type CommandRegistry } from './router/command-registry.js';
export { CommandFailure, describeFailure } from './router/command-failure.js';
export {
  defineCommand,
  type CommandContext,
  type CommandDefinition,
  type CommandScope,
  type CommandServices,
  type OutgoingSticker,
} from './router/define-command.js';
export { parseCommandLine, splitArgs, splitPair } from './router/parse.js';
export { createRateLimiter, type RateDecision, type RateLimiter, type RateLimitOptions } from './router/rate-limiter.js';
export { openBotDatabase, type BotDatabase } from './db/bot-database.js';
export type { Catalogue, CatalogueSticker, CatalogueTotals, NewSticker } from './db/catalogue.js';
export type { HandledMessage, ProgressStore, RememberedMessage } from './db/progress-store.js';
export type { PackDefaults, SettingsStore } from './db/settings-store.js';
export type { CommandCount, StatsStore } from './db/stats-store.js';
