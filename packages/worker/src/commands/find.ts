import { parseTags } from '../db/tags.js';
import { CommandFailure } from '../router/command-failure.js';
import { defineCommand } from '../router/define-command.js';

/** Most stickers `find` sends. */
export const MAX_FOUND = 3;

/** `find <emojis or words>`: the best tagged matches this chat may see. */
export const findCommand = defineCommand({
  name: 'find',
  aliases: ['search', 'f'],
  summary: `find stickers by emoji or word: up to ${MAX_FOUND}, best first`,
  usage: '<emojis or words>',
  examples: ['find 😂', 'find cat', 'find 😂 cat'],
  details:
    "Stickers with the most matching tags come first, then the most sent and reacted-to. It searches this chat's stickers and the public ones (see public); a group's stickers are not found elsewhere.",
  async run(ctx) {
    const { tags } = parseTags(ctx.args);
    if (tags.length === 0) throw new CommandFailure(`What should I look for? ${ctx.prefix}find 😂 or ${ctx.prefix}find cat`);
    const found = ctx.services.db.catalogue.search(tags, { chat: ctx.message.chat }, MAX_FOUND);
    if (found.length === 0) throw new CommandFailure(`No sticker here is tagged ${tags.join(' ')}. Tag one by replying to it with ${ctx.prefix}tag ${tags[0] ?? ''}.`);
    for (const sticker of found) await ctx.sendSticker(sticker);
  },
});
