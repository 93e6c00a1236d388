import { defineCommand, type CommandDefinition } from '../router/define-command.js';

function line(prefix: string, command: CommandDefinition): string {
  const aliases = command.aliases?.length ? ` (${command.aliases.map((alias) => prefix + alias).join(', ')})` : '';
  return `${prefix}${command.name}${aliases}: ${command.summary}`;
}

/** `help [command]`: the command list, or one command's usage, from the commands' own metadata. */
export const helpCommand = defineCommand({
  name: 'help',
  aliases: ['h', 'menu', 'commands'],
  summary: 'what I can do, or how to use one command',
  usage: '[command]',
  examples: ['help', 'help sticker'],
  async run(ctx) {
    const { registry } = ctx.services;
    const p = ctx.prefix;
    const topic = ctx.args[0]?.replace(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), '');
    if (topic) {
      const command = registry.find(topic);
      if (!command || (command.ownerOnly && !ctx.isOwner)) {
        await ctx.reply(`I don't know ${p}${topic}. Send ${p}help for the list.`);
        return;
      }
      const parts = [
        `${p}${command.name}${command.usage ? ` ${command.usage}` : ''}`,
        command.summary,
        command.details,
        command.aliases?.length ? `Also: ${command.aliases.map((alias) => p + alias).join(', ')}` : undefined,
        command.examples?.length ? `Examples:\n${command.examples.map((example) => `  ${p}${example}`).join('\n')}` : undefined,
      ];
      await ctx.reply(parts.filter((part) => part !== undefined).join('\n'));
      return;
    }
    const visible = registry.list().filter((command) => !command.ownerOnly || ctx.isOwner);
    const intro = ctx.message.isGroup
      ? 'Send a command with an image or video, or reply to one:'
      : 'Send me an image, GIF or video and I turn it into a sticker. Commands:';
    await ctx.reply([intro, ...visible.map((command) => line(p, command)), `More: ${p}help <command>`].join('\n'));
  },
});
