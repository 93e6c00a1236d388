import { PACK_RULES, type StickerPack } from '../db/pack-store.js';
import { CommandFailure } from '../router/command-failure.js';
import type { CommandContext } from '../router/define-command.js';
import { unquote } from '../router/parse.js';

/** One `pack` subcommand: its context and the words after the subcommand. */
export type PackAction = (ctx: CommandContext, name: string) => Promise<void>;

function count(pack: StickerPack, animated: boolean | undefined): string {
  const n = pack.stickers.length;
  const kind = animated === undefined ? '' : animated ? 'animated ' : 'static ';
  return `${n} ${kind}sticker${n === 1 ? '' : 's'}`;
}

function shortBy(pack: StickerPack): string {
  const missing = PACK_RULES.minStickers - pack.stickers.length;
  return missing > 0 ? ` A WhatsApp pack needs at least ${PACK_RULES.minStickers}: add ${missing} more.` : '';
}

function named(ctx: CommandContext, name: string, usage: string): StickerPack {
  if (name === '') throw new CommandFailure(`Which pack? ${ctx.prefix}pack ${usage}`);
  const pack = ctx.services.db.packs.find(ctx.message.chat, name);
  if (!pack) throw new CommandFailure(`There is no pack "${name}" here. Make it with ${ctx.prefix}pack new ${name}.`);
  return pack;
}

const newPack: PackAction = async (ctx, name) => {
  if (name === '') throw new CommandFailure(`Give the pack a name: ${ctx.prefix}pack new Cats`);
  if (name.length > PACK_RULES.maxNameLength) throw new CommandFailure(`A pack name can be at most ${PACK_RULES.maxNameLength} characters.`);
  const pack = ctx.services.db.packs.create(ctx.message.chat, name, ctx.message.sender);
  if (!pack) throw new CommandFailure(`This chat has a pack "${name}" already. See it with ${ctx.prefix}pack show ${name}.`);
  await ctx.reply(
    `Pack "${pack.name}" is ready. Reply to a sticker with ${ctx.prefix}pack add ${pack.name} to add it (${PACK_RULES.minStickers} to ${PACK_RULES.maxStickers} stickers, all static or all animated).`,
  );
};

const addToPack: PackAction = async (ctx, name) => {
  const { packs, catalogue } = ctx.services.db;
  // Without a name: the last pack this sender made here.
  const pack = name === '' ? packs.latest(ctx.message.chat, ctx.message.sender) : named(ctx, name, 'add Cats');
  if (!pack) throw new CommandFailure(`Make a pack first: ${ctx.prefix}pack new Cats`);
  if (pack.stickers.length >= PACK_RULES.maxStickers) throw new CommandFailure(`"${pack.name}" is full: a WhatsApp pack holds at most ${PACK_RULES.maxStickers} stickers.`);
  const sha256 = await ctx.quotedSticker();
  if (sha256 === undefined) throw new CommandFailure(`Reply to a sticker with ${ctx.prefix}pack add ${pack.name}.`);
  const sticker = catalogue.get(sha256);
  const first = pack.stickers[0] === undefined ? undefined : catalogue.get(pack.stickers[0]);
  if (sticker && first && first.animated !== sticker.animated) {
    throw new CommandFailure(`"${pack.name}" holds ${first.animated ? 'animated' : 'static'} stickers, and WhatsApp packs don't mix static and animated ones.`);
  }
  if (!packs.add(pack.id, sha256)) throw new CommandFailure(`That sticker is in "${pack.name}" already.`);
  const now = packs.find(pack.chat, pack.name) ?? pack;
  await ctx.reply(`Added to "${now.name}" (${count(now, undefined)}).${shortBy(now)}`);
};

const showPack: PackAction = async (ctx, name) => {
  const pack = named(ctx, name, 'show Cats');
  const stickers = pack.stickers.map((sha256) => ctx.services.db.catalogue.get(sha256)).filter((s) => s !== undefined);
  if (stickers.length === 0) throw new CommandFailure(`"${pack.name}" is empty. Reply to a sticker with ${ctx.prefix}pack add ${pack.name}.`);
  await ctx.reply(`"${pack.name}": ${count(pack, stickers[0]?.animated)}.${shortBy(pack)}`);
  for (const sticker of stickers) await ctx.sendSticker(sticker);
};

const listPacks: PackAction = async (ctx) => {
  const all = ctx.services.db.packs.list(ctx.message.chat);
  if (all.length === 0) throw new CommandFailure(`No packs here yet. Make one with ${ctx.prefix}pack new Cats`);
  await ctx.reply(['Packs here:', ...all.map((pack) => `• ${pack.name} (${count(pack, undefined)})`)].join('\n'));
};

/** The `pack` subcommands that collect stickers, by their first word. */
export const PACK_ACTIONS: Readonly<Record<string, PackAction>> = { new: newPack, add: addToPack, show: showPack, list: listPacks };

/** Splits `add "My Cats"` into the subcommand's action and its unquoted name, if the first word is one. */
export function packAction(rest: string): { action: PackAction; name: string } | undefined {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  const action = match ? PACK_ACTIONS[(match[1] ?? '').toLowerCase()] : undefined;
  return action && { action, name: unquote((match?.[2] ?? '').trim()) };
}
