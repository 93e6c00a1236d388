import type { StickerEngine } from '@stickerbot/sticker';
import type { Message, WorkerCommandArgs, WorkerCommandName, WorkerCommandResult } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { CommandOptions } from '../bridge/bridge-client.js';
import type { WorkerConfig } from '../config.js';
import type { BotDatabase } from '../db/bot-database.js';
import type { PackDefaults } from '../db/settings-store.js';
import type { MediaSource } from '../media/media-source.js';
import type { AccountBook } from './account-book.js';
import type { CommandRegistry } from './command-registry.js';

/** What every command can reach besides its message. */
export interface CommandServices {
  readonly config: WorkerConfig;
  readonly db: BotDatabase;
  readonly stickers: StickerEngine;
  readonly registry: CommandRegistry;
  readonly accounts: AccountBook;
  readonly log: Logger;
  readonly now: () => number;
  /** When this worker process started (epoch ms). */
  readonly startedAt: number;
}

/** A sticker to send. */
export interface OutgoingSticker {
  data: Uint8Array;
  animated: boolean;
}

/** Arguments of a worker command without its id (the context derives it). */
export type CommandArgsWithoutId<N extends WorkerCommandName> = Omit<WorkerCommandArgs<N>, 'id'>;

/** The handling of one chat command. */
export interface CommandContext {
  readonly message: Message;
  readonly sessionId: string;
  /** Arguments, split with quoting. */
  readonly args: readonly string[];
  /** Everything after the command word. */
  readonly rest: string;
  /** The name or alias the user typed (without prefix). */
  readonly invokedAs: string;
  /** Whether the message came as media with auto-sticker on, not as a typed command. */
  readonly auto: boolean;
  readonly isOwner: boolean;
  readonly prefix: string;
  /** Aborted when the worker gives up on this message at shutdown. */
  readonly signal: AbortSignal;
  readonly services: CommandServices;
  /** Sends a worker command with the next id derived from this message. */
  command<N extends WorkerCommandName>(name: N, args: CommandArgsWithoutId<N>, options?: CommandOptions): Promise<WorkerCommandResult<N>>;
  /** Replies to the message with text (quoting it). */
  reply(text: string): Promise<void>;
  /** Reacts to the message. */
  react(emoji: string): Promise<void>;
  /**
   * Marks the start of work that may be slow, without waiting for anything: if the command
   * has not answered `STICKERBOT_PROGRESS_DELAY_MS` later, the bot reacts ⏳, and then ✅ or
   * ❌ after the answer. Work done sooner shows no reactions at all. Call it after checking
   * the input.
   */
  working(): void;
  /**
   * Sends a sticker into the chat, adds it to the catalogue (with `tags`; linked to a near
   * duplicate when there is one) and returns the hash it is catalogued under.
   */
  sendSticker(sticker: OutgoingSticker, tags?: readonly string[]): Promise<string>;
  /** Adds a sticker to the catalogue as made in this chat (fingerprinted in a converter) and returns its catalogue hash. */
  catalogue(sticker: OutgoingSticker, tags?: readonly string[]): Promise<string>;
  /**
   * The catalogue hash of the sticker this message replies to (or carries): one the bot
   * sent is looked up, another is downloaded and catalogued. Undefined when there is none.
   */
  quotedSticker(): Promise<string | undefined>;
  /** The media this command works on (own or quoted), if any. */
  findMedia(): MediaSource | undefined;
  /** Throws a plain-words failure when the media's declared size is over the cap (call before {@link working}). */
  ensureWithinCap(source: MediaSource): void;
  /** Downloads media, refusing it before download when its declared size is over the cap. */
  download(source: MediaSource): Promise<Buffer>;
  /** The pack metadata this sender's stickers get. */
  packFor(): PackDefaults;
}

/** Where a command may run. */
export type CommandScope = 'any' | 'private' | 'group';

/** A chat command: one per file in `src/commands/`. */
export interface CommandDefinition {
  /** The command word, lower-case. */
  readonly name: string;
  /** Other words that run it. */
  readonly aliases?: readonly string[];
  /** One line for the help list. */
  readonly summary: string;
  /** Arguments after the command word, e.g. `[fit|crop|circle|rounded] [pack | author]`. */
  readonly usage: string;
  /** Example lines without the prefix, e.g. `s circle`. */
  readonly examples?: readonly string[];
  /** Longer help shown by `help <command>`. */
  readonly details?: string;
  /** Only `STICKERBOT_OWNERS` may run it. */
  readonly ownerOnly?: boolean;
  /** Default `any`. */
  readonly scope?: CommandScope;
  run(context: CommandContext): Promise<void>;
}

/** Declares a chat command (identity at run time; gives the definition its type). */
export function defineCommand(definition: CommandDefinition): CommandDefinition {
  return definition;
}
