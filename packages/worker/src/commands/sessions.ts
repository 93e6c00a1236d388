import { defineCommand } from '../router/define-command.js';

/** `sessions` (owners only): the daemon's WhatsApp sessions and their states. */
export const sessionsCommand = defineCommand({
  name: 'sessions',
  summary: "the daemon's WhatsApp sessions and their states (owners only)",
  usage: '',
  examples: ['sessions'],
  ownerOnly: true,
  async run(ctx) {
    const { sessions } = await ctx.command('session:list', {});
    const lines = sessions.map((session) => {
      const who = session.account?.phone ?? session.account?.jid ?? 'not logged in';
      const error = session.lastError ? ` (${session.lastError.code})` : '';
      return `${session.id}: ${session.status}${error}, ${who}`;
    });
    await ctx.reply(lines.length > 0 ? lines.join('\n') : 'No sessions.');
  },
});
