import { defineCommand } from '../router/define-command.js';

/** "3h 02m", "45s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `ping`: bridge round trip and uptimes, through `daemon:status`. */
export const pingCommand = defineCommand({
  name: 'ping',
  summary: 'check that I am alive (round trip and uptimes)',
  usage: '',
  examples: ['ping'],
  async run(ctx) {
    const { now, startedAt } = ctx.services;
    const sent = now();
    const status = await ctx.command('daemon:status', {});
    const roundTrip = now() - sent;
    await ctx.reply(
      [
        `pong 🏓 bridge round trip ${roundTrip} ms`,
        `daemon up ${formatDuration(status.now - status.startedAt)}, worker up ${formatDuration(now() - startedAt)}`,
      ].join('\n'),
    );
  },
});
