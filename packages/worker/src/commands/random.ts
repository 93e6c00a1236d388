import { createHash } from 'node:crypto';
import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';

/** `random`: a sticker from the catalogue. */
export const randomCommand = defineCommand({
  name: 'random',
  aliases: ['rand', 'r'],
  summary: 'a random sticker from those this chat may see',
  usage: '',
  examples: ['random'],
  details: "It picks from this chat's stickers and the public ones (see public).",
  async run(ctx) {
    // Seeded by the message id, not Math.random: a restarted worker handling the same
    // message again picks the same sticker, so its repeated send id means the same send.
    const seed = createHash('sha256').update(ctx.message.id).digest().readUInt32BE(0);
    const sticker = ctx.services.db.catalogue.pick(seed, { chat: ctx.message.chat });
    if (!sticker) throw new CommandFailure(`I haven't made any stickers here yet. Make the first one with ${ctx.prefix}sticker!`);
    await ctx.sendSticker(sticker);
  },
});
