import type { Message, WorkerCommandArgs, WorkerCommandName } from '@stickerbot/protocol';
import type { CommandOptions, CommandSender } from '../bridge/bridge-client.js';
import type { CommandIds } from '../bridge/command-ids.js';
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

/** Builds the {@link CommandContext} of one invocation; every command it sends takes the next id from `ids`. */
export function createCommandContext(
  invocation: Invocation,
  bridge: CommandSender,
  ids: CommandIds,
  services: CommandServices,
): CommandContext {
  const { message, sessionId } = invocation;
  const { config, db } = services;
  let working = false;

  const context: CommandContext = {
    ...invocation,
    prefix: config.prefix,
    services,
    command<N extends WorkerCommandName>(name: N, args: CommandArgsWithoutId<N>, options?: CommandOptions) {
      const full = { ...args, id: ids.next() } as WorkerCommandArgs<N>;
      return bridge.command(name, full, options);
    },
    async reply(text) {
      await context.command('message:send', { sessionId, chat: message.chat, content: { type: 'text', text }, quotedId: message.id });
    },
    async react(emoji) {
      await context.command('message:send', {
        sessionId,
        chat: message.chat,
        content: { type: 'reaction', messageId: message.id, emoji, ...(message.isGroup ? { participant: message.sender } : {}) },
      });
    },
    async working() {
      if (working) return;
      working = true;
      await context.react('⏳');
    },
    get isWorking() {
      return working;
    },
    async sendSticker(sticker) {
      const sha256 = db.catalogue.add({ data: sticker.data, animated: sticker.animated, creator: message.sender, chat: message.chat });
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
      const media = await context.command('media:download', { sessionId, messageId: source.messageId });
      if (media.data.byteLength > config.maxMediaBytes) throw new CommandFailure(tooLarge(config.maxMediaBytes));
      return Buffer.from(media.data.buffer, media.data.byteOffset, media.data.byteLength);
    },
    packFor() {
      const mine = db.settings.pack(message.sender);
      if (mine) return mine;
      return { pack: config.pack, author: config.author ?? services.accounts.get(sessionId)?.name ?? 'stickerbot' };
    },
  };
  return context;
}
