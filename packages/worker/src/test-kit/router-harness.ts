import path from 'node:path';
import type { JournalEntry, Message } from '@stickerbot/protocol';
import { createStickerEngine, type StickerEngine } from '@stickerbot/sticker';
import { COMMANDS } from '../commands/index.js';
import { loadConfig, type WorkerConfig } from '../config.js';
import { openBotDatabase, type BotDatabase } from '../db/bot-database.js';
import { createAccountBook } from '../router/account-book.js';
import { createCommandRegistry } from '../router/command-registry.js';
import type { CommandDefinition, CommandServices } from '../router/define-command.js';
import { createRouter, type Router } from '../router/router.js';
import { createFakeBridge, type FakeBridge } from './fake-bridge.js';
import { captureLog, engineEnvironment, messageEvent, tempDir } from './helpers.js';

export const ALICE = '4915100000001@s.whatsapp.net';
export const BOB = '4915100000002@s.whatsapp.net';
export const OWNER = '4915100000009@s.whatsapp.net';
export const GROUP = '120363000000000001@g.us';

/** A router over a real bot database and a real sticker engine, talking to a fake bridge. */
export interface RouterHarness extends AsyncDisposable {
  router: Router;
  bridge: FakeBridge;
  db: BotDatabase;
  stickers: StickerEngine;
  config: WorkerConfig;
  clock: { now: number };
  seq: number;
  /** Delivers a message (private text from Alice by default) and waits for its handling. */
  send(overrides?: Partial<Message>): Promise<Message>;
  /** Delivers a `reaction:received` (Bob reacting in Alice's private chat by default) and waits for its handling. */
  react(messageId: string, emoji: string, overrides?: { chat?: string; sender?: string }): Promise<void>;
  /** The WhatsApp id the fake bridge gave a `message:send` it recorded. */
  sentId(args: unknown): string;
}

/** Starts a harness; `commands` replaces the bot's commands (e.g. with one a test controls). */
export function startRouterHarness(env: Record<string, string> = {}, stickers?: StickerEngine, commands: readonly CommandDefinition[] = COMMANDS): RouterHarness {
  const dir = tempDir();
  const config = loadConfig({ STICKERBOT_DATA_DIR: dir.path, STICKERBOT_OWNERS: '4915100000009', STICKERBOT_MAX_MEDIA_MB: '2', ...env });
  const clock = { now: Date.now() };
  const db = openBotDatabase(path.join(dir.path, 'worker.sqlite'), config.group, () => clock.now);
  const engine = stickers ?? createStickerEngine({ concurrency: 1, ...engineEnvironment() });
  const bridge = createFakeBridge();
  const services: CommandServices = {
    config,
    db,
    stickers: engine,
    registry: createCommandRegistry(commands),
    accounts: createAccountBook(),
    log: captureLog('silent').log,
    now: () => clock.now,
    startedAt: clock.now - 60_000,
  };
  const router = createRouter({ services, bridge });
  const harness: RouterHarness = {
    router,
    bridge,
    db,
    stickers: engine,
    config,
    clock,
    seq: 0,
    async send(overrides = {}) {
      const event = messageEvent({ timestamp: clock.now, ...overrides });
      const entry: JournalEntry = { seq: ++harness.seq, sessionId: 'default', ts: clock.now, event };
      await router.handle(entry, new AbortController().signal);
      // What the event pump would record after handling.
      if (event.type === 'message:received') {
        const m = event.message;
        db.progress.commit({
          position: entry.seq,
          handled: [{ seq: entry.seq, message: { sessionId: 'default', messageId: m.id, chat: m.chat, kind: m.kind, mimetype: m.media?.mimetype, size: m.media?.size, animated: m.media?.animated } }],
        });
        return m;
      }
      throw new Error('not a message');
    },
    async react(messageId, emoji, overrides = {}) {
      const event = { type: 'reaction:received', messageId, chat: overrides.chat ?? ALICE, sender: overrides.sender ?? BOB, emoji, timestamp: clock.now } as const;
      await router.handle({ seq: ++harness.seq, sessionId: 'default', ts: clock.now, event }, new AbortController().signal);
    },
    sentId(args) {
      const at = bridge.sent.filter((command) => command.name === 'message:send').findIndex((command) => command.args === args);
      if (at === -1) throw new Error('not a send the fake bridge recorded');
      return `BOT${at + 1}`;
    },
    async [Symbol.asyncDispose]() {
      if (!stickers) await engine.close();
      db.close();
      dir[Symbol.dispose]();
    },
  };
  return harness;
}
