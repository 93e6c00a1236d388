import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { StickerEngine } from '@stickerbot/sticker';
import type { Logger } from 'pino';
import { createBridgeClient, type BridgeClient, type BridgeClientOptions } from './bridge/bridge-client.js';
import type { StopOutcome } from './bridge/event-pump.js';
import { COMMANDS } from './commands/index.js';
import type { WorkerConfig } from './config.js';
import { openBotDatabase, type BotDatabase } from './db/bot-database.js';
import { createAccountBook } from './router/account-book.js';
import { createCommandRegistry } from './router/command-registry.js';
import type { CommandDefinition, CommandServices } from './router/define-command.js';
import type { RateLimitOptions } from './router/rate-limiter.js';
import { createRouter } from './router/router.js';

/** What the worker is built from (the composition root passes real ones; tests may tune). */
export interface WorkerDeps {
  log: Logger;
  stickers: StickerEngine;
  now?: () => number;
  /** Chat commands (default: all of `src/commands`). */
  commands?: readonly CommandDefinition[];
  rateLimit?: RateLimitOptions;
  /** Bridge tuning (backoff, ack delay, timeouts) for tests. */
  bridge?: Pick<BridgeClientOptions, 'backoff' | 'ackDelayMs' | 'timeouts' | 'retryDelayMs'>;
  /** Called each time the bridge connection is up (main.ts starts the converters on the first). */
  onConnect?: () => void;
}

/** The running worker. */
export interface Worker {
  readonly bridge: BridgeClient;
  readonly db: BotDatabase;
  start(): void;
  /** Stops taking events, finishes or abandons those in hand within `graceMs` (default 5 s), closes everything. */
  stop(graceMs?: number): Promise<StopOutcome>;
}

/** How long handled message ids are kept for dedupe (longer than any journal replay). */
const PROCESSED_RETENTION_MS = 14 * 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

/** Reads the daemon-generated token file, or `undefined` when it is not there (yet). */
function readToken(file: string): string | undefined {
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

/** Builds the worker: bot database, command registry, router and bridge client. */
export function createWorker(deps: WorkerDeps, config: WorkerConfig): Worker {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const db = openBotDatabase(config.databaseFile, config.group, now);
  const registry = createCommandRegistry(deps.commands ?? COMMANDS);
  const services: CommandServices = {
    config,
    db,
    stickers: deps.stickers,
    registry,
    accounts: createAccountBook(),
    log,
    now,
    startedAt: now(),
  };
  const router = createRouter({
    services,
    rateLimit: deps.rateLimit,
    bridge: { command: (name, args, options) => bridge.command(name, args, options) },
  });
  const bridge: BridgeClient = createBridgeClient({
    url: config.bridgeUrl,
    token: () => config.token ?? readToken(config.tokenFile),
    tokenHint: config.token ? 'STICKERBOT_TOKEN' : `STICKERBOT_TOKEN is unset and ${config.tokenFile} is missing or wrong (start the daemon first, or set STICKERBOT_TOKEN)`,
    group: config.group,
    progress: db.progress,
    handle: (entry, signal) => router.handle(entry, signal),
    concurrency: config.concurrency,
    log,
    // The accounts (for the default sticker author) come from `session:changed` events,
    // which a resumed worker may not see again; ask once per connection, outside any
    // event's handling so that event command ids stay deterministic.
    onConnect: () => {
      bridge
        .command('session:list', { id: `w.sessions.${randomUUID()}` }, { retries: 0 })
        .then(({ sessions }) => {
          for (const session of sessions) services.accounts.set(session.id, session.account);
        })
        .catch((err: unknown) => log.debug({ err }, 'could not list the sessions'));
      deps.onConnect?.();
    },
    ...deps.bridge,
  });
  let pruneTimer: NodeJS.Timeout | undefined;
  const prune = () => {
    const pruned = db.prune(PROCESSED_RETENTION_MS);
    if (pruned.messages + pruned.sent > 0) log.info(pruned, 'pruned old handled message ids');
  };
  let stopped: Promise<StopOutcome> | undefined;

  return {
    bridge,
    db,
    start() {
      prune();
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      pruneTimer.unref();
      log.info({ bridgeUrl: config.bridgeUrl, group: config.group, position: db.progress.position(), prefix: config.prefix }, 'worker starting');
      bridge.start();
    },
    stop(graceMs = 5000) {
      stopped ??= (async () => {
        if (pruneTimer) clearInterval(pruneTimer);
        const outcome = await bridge.stop(graceMs);
        db.close();
        log.info(outcome, 'worker stopped');
        return outcome;
      })();
      return stopped;
    },
  };
}
