import { CommandFailure } from '../router/command-failure.js';
import { wireBytes } from '../media/bytes.js';
import { defineCommand } from '../router/define-command.js';

/** `toimg`: a sticker (replied to) → PNG image, or MP4 for an animated one. */
export const toimgCommand = defineCommand({
  name: 'toimg',
  aliases: ['toimage', 'img', 'unsticker'],
  summary: 'turn a sticker back into an image (or a video if it moves)',
  usage: '',
  examples: ['toimg (as a reply to a sticker)'],
  async run(ctx) {
    const source = ctx.findMedia();
    if (!source || source.kind !== 'sticker') throw new CommandFailure(`Reply to a sticker with ${ctx.prefix}toimg.`);
    ctx.ensureWithinCap(source);
    ctx.working();
    const sticker = await ctx.download(source);
    const image = await ctx.services.stickers.toImage(sticker, { signal: ctx.signal });
    const content =
      image.mimetype === 'video/mp4'
        ? ({ type: 'video', data: wireBytes(image.data), mimetype: image.mimetype, gifPlayback: true } as const)
        : ({ type: 'image', data: wireBytes(image.data), mimetype: image.mimetype } as const);
    await ctx.command('message:send', { sessionId: ctx.sessionId, chat: ctx.message.chat, content, quotedId: ctx.message.id });
  },
});
