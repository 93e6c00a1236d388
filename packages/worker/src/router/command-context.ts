import type { Message, WorkerCommandArgs, WorkerCommandName } from '@stickerbot/protocol';
import type { CommandOptions, CommandSender } from '../bridge/bridge-client.js';
import type { CommandIds } from '../bridge/command-ids.js';
import { sha256Hex } from '../db/catalogue.js';
import { wireBytes } from '../media/bytes.js';
import { findMedia } from '../media/media-source.js';
import { CommandFailure, tooLarge } from './command-failure.js';
import type { CommandArgsWithoutId, CommandContext, CommandServices } from './define-command.js';

/** What one command invocation is about. */
export interface Invocation {
  sessionId: string;
  message: Message;
  args: readonly string[];
  rest: string;
  invokedAs: string;
  auto: boolean;
  isOwner: boolean;
  signal: AbortSignal;
}

/**
 * The progress reactions of one invocation (see {@link CommandContext.working}): the router
 * ends them when the command is done.
 */
export interface Progress {
  /** Cancels a ⏳ not shown yet; after a shown one, reacts `emoji` (✅ done, ❌ failed) once the answer went out. */
  finish(emoji: '✅' | '❌'): Promise<void>;
  /** Cancels a ⏳ not shown yet and shows nothing more. */
  cancel(): void;
}

/** A {@link CommandContext} and the {@link Progress} its router ends. */
export interface InvocationContext {
  context: CommandContext;
  progress: Progress;
}

/**
 * Builds the {@link CommandContext} of one invocation; every command it sends takes the
 * next id from `ids`, except the progress reactions, which take named ids (`wait`, `done`,
 * `fail`): whether they are sent depends on timing, so they must not shift the sequence a
 * restarted worker repeats.
 */
export function createCommandContext(invocation: Invocation, bridge: CommandSender, ids: CommandIds, services: CommandServices): InvocationContext {
  const { message, sessionId } = invocation;
  const { config, db } = services;
  let working = false;
  /** An answer went out (or the run is over): a ⏳ not shown yet never will be. */
  let answered = false;
  let waitTimer: NodeJS.Timeout | undefined;
  /** The ⏳ send, if it was made: resolves to whether WhatsApp took it. */
  let shown: Promise<boolean> | undefined;

  const reaction = (emoji: string) =>
    ({ type: 'reaction', messageId: message.id, emoji, ...(message.isGroup ? { participant: message.sender } : {}) }) as const;
  const sendProgress = (label: string, emoji: string) =>
    bridge.command('message:send', { id: ids.named(label), sessionId, chat: message.chat, content: reaction(emoji) });

  function showWaiting(): void {
    waitTimer = undefined;
    if (answered) return;
    // Not awaited: the work goes on while WhatsApp acknowledges the reaction. The daemon
    // sends one chat's messages in the order they were queued, so the ⏳ (queued now)
    // reaches the phone before any answer (queued later).
    shown = sendProgress('wait', '⏳').then(
      () => true,
      (error: unknown) => {
        services.log.warn({ err: error, messageId: message.id, chat: message.chat }, 'could not show ⏳');
        return false;
      },
    );
  }

  function stopWaiting(): void {
    answered = true;
    clearTimeout(waitTimer);
    waitTimer = undefined;
  }

  const context: CommandContext = {
    ...invocation,
    prefix: config.prefix,
    services,
    command<N extends WorkerCommandName>(name: N, args: CommandArgsWithoutId<N>, options?: CommandOptions) {
      // Any message into the chat is an answer: from here a ⏳ would only arrive after it.
      if (name === 'message:send' && (args as CommandArgsWithoutId<'message:send'>).content.type !== 'reaction') stopWaiting();
      const full = { ...args, id: ids.next() } as WorkerCommandArgs<N>;
      return bridge.command(name, full, options);
    },
    async reply(text) {
      await context.command('message:send', { sessionId, chat: message.chat, content: { type: 'text', text }, quotedId: message.id });
    },
    async react(emoji) {
      await context.command('message:send', { sessionId, chat: message.chat, content: reaction(emoji) });
    },
    working() {
      if (working || answered) return;
      working = true;
      if (config.progressDelayMs === 0) showWaiting();
      else waitTimer = setTimeout(showWaiting, config.progressDelayMs);
    },
    async catalogue(sticker, tags) {
      let phash: string | undefined;
      // Bytes catalogued before (or linked to a near duplicate) need no new fingerprint.
      if (db.catalogue.canonical(sha256Hex(sticker.data)) === undefined) {
        try {
          phash = await services.stickers.fingerprint(sticker.data);
        } catch (error) {
          // Without a hash it is catalogued as it is; a duplicate of it is only missed.
          services.log.warn({ err: error, messageId: message.id }, 'could not fingerprint a sticker');
        }
      }
      return db.catalogue.add({ data: sticker.data, animated: sticker.animated, creator: message.sender, chat: message.chat, phash, tags });
    },
    async quotedSticker() {
      const source = context.findMedia();
      if (!source || source.kind !== 'sticker') return undefined;
      const own = db.catalogue.bySentMessage(sessionId, source.messageId);
      // One the bot sent: catalogued already, and seen in the chat it was sent to.
      if (own) return own.sha256;
      const data = await context.download(source);
      const info = await services.stickers.info(data);
      return context.catalogue({ data, animated: info.animated });
    },
    async sendSticker(sticker, tags) {
      const sha256 = await context.catalogue(sticker, tags);
      const sent = await context.command('message:send', {
        sessionId,
        chat: message.chat,
        content: { type: 'sticker', data: wireBytes(sticker.data), animated: sticker.animated },
        quotedId: message.id,
      });
      db.catalogue.recordSent(sha256, sessionId, sent.messageId);
      return sha256;
    },
    findMedia: () => findMedia(message, (id) => db.progress.remembered(sessionId, id)),
    ensureWithinCap(source) {
      if (source.size !== undefined && source.size > config.maxMediaBytes) throw new CommandFailure(tooLarge(config.maxMediaBytes));
    },
    async download(source) {
      context.ensureWithinCap(source);
      // One of the bot's own stickers: the catalogue has the bytes, no download needed.
      const own = source.kind === 'sticker' ? db.catalogue.bySentMessage(sessionId, source.messageId) : undefined;
      if (own) return own.data;
      // Quoted media the daemon never journaled (posted before the bot joined) comes from the quote's copy.
      const media = await context.command('media:download', { sessionId, messageId: source.messageId, ...(source.own ? {} : { quotedBy: message.id }) });
      if (media.data.byteLength > config.maxMediaBytes) throw new CommandFailure(tooLarge(config.maxMediaBytes));
      return Buffer.from(media.data.buffer, media.data.byteOffset, media.data.byteLength);
    },
    packFor() {
      const mine = db.settings.pack(message.sender);
      if (mine) return mine;
      return { pack: config.pack, author: config.author ?? services.accounts.get(sessionId)?.name ?? 'stickerbot' };
    },
  };
  const progress: Progress = {
    async finish(emoji) {
      stopWaiting();
      if (shown && (await shown)) await sendProgress(emoji === '✅' ? 'done' : 'fail', emoji);
    },
    cancel: stopWaiting,
  };
  return { context, progress };
}
