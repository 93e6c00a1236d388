import { StickerbotError, type BotEvent } from '@stickerbot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStickerEngine, type StickerEngine } from '@stickerbot/sticker';
import { CommandFailure } from '../src/router/command-failure.js';
import { defineCommand } from '../src/router/define-command.js';
import { ALICE, engineEnvironment, GROUP, OWNER, startRouterHarness, waitFor, type RouterHarness } from '../src/test-kit/index.js';

/** A command whose work the test ends: `!work` answers "done", `!work fail` fails, `!work early` answers first and works on. */
function gatedCommand() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const command = defineCommand({
    name: 'work',
    summary: 'work the test controls',
    usage: '[fail|early]',
    async run(ctx) {
      ctx.working();
      if (ctx.args[0] === 'early') await ctx.reply('first answer');
      await gate;
      if (ctx.args[0] === 'fail') throw new CommandFailure('That did not work.');
      if (ctx.args[0] !== 'early') await ctx.reply('done');
    },
  });
  return { command, open };
}

/** The `message:send`s of a harness in order: reactions as their emoji, texts as `text:…`, with their ids. */
function sends(h: RouterHarness): Array<[string, string]> {
  return h.bridge.sent
    .filter((c) => c.name === 'message:send')
    .map((c) => {
      const args = c.args as { id: string; content: { type: string; emoji?: string; text?: string } };
      return [args.id, args.content.type === 'reaction' ? (args.content.emoji ?? '') : `${args.content.type}:${args.content.text ?? ''}`];
    });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('router', () => {
  let stickers: StickerEngine;
  beforeAll(() => {
    stickers = createStickerEngine({ concurrency: 1, ...engineEnvironment() });
  });
  afterAll(() => stickers.close());

  it('runs a command by name or alias and answers with help from the commands metadata', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!help' });
    await h.send({ text: '!h sticker' });
    const [list, detail] = h.bridge.texts();
    expect(list).toContain('!sticker (!s, !stiker, !stick)');
    expect(list).toContain('!toimg');
    expect(list).not.toContain('!sessions');
    expect(detail).toContain('!sticker [fit|crop|circle|rounded] [emojis] [pack | author]');
    expect(detail).toContain('!s 😂🔥');
    expect(detail).toContain('!s circle');
  });

  it('suggests the closest command for a typo', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!stikcer' });
    await h.send({ text: '!weather' });
    expect(h.bridge.texts()).toEqual([
      "I don't know !stikcer. Did you mean !sticker? Send !help for the list.",
      "I don't know !weather. Send !help for the list.",
    ]);
  });

  it('uses the configured prefix', async () => {
    await using h = startRouterHarness({ STICKERBOT_PREFIX: '/' }, stickers);
    await h.send({ text: '!ping', isGroup: true, chat: GROUP });
    await h.send({ text: '/ping', isGroup: true, chat: GROUP });
    expect(h.bridge.texts()).toHaveLength(1);
    expect(h.bridge.texts()[0]).toMatch(/^pong/);
  });

  it('rate-limits a sender: a friendly "slow down" once, then silence, then answers again', async () => {
    await using h = startRouterHarness({}, stickers);
    for (let i = 0; i < 7; i++) await h.send({ text: '!ping' });
    const texts = h.bridge.texts();
    expect(texts.filter((text) => text.startsWith('pong'))).toHaveLength(5);
    expect(texts.filter((text) => text.startsWith('Slow down'))).toHaveLength(1);
    expect(texts).toHaveLength(6);
    await h.send({ text: '!ping', sender: '4915100000002@s.whatsapp.net', chat: '4915100000002@s.whatsapp.net' });
    expect(h.bridge.texts()).toHaveLength(7);
    h.clock.now += 10_000;
    await h.send({ text: '!ping' });
    expect(h.bridge.texts().at(-1)).toMatch(/^pong/);
  });

  it('keeps owner-only commands for STICKERBOT_OWNERS', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!sessions' });
    await h.send({ text: '!sessions', sender: OWNER, chat: OWNER });
    expect(h.bridge.texts()[0]).toBe("Only the bot's owners can use !sessions.");
    expect(h.bridge.texts()[1]).toContain('default: CONNECTED');
    await h.send({ text: '!help', sender: OWNER, chat: OWNER });
    expect(h.bridge.texts()[2]).toContain('!sessions');
  });

  it('answers bare command words in private chats but needs the prefix in groups', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: 'ping' });
    await h.send({ text: 'ping', isGroup: true, chat: GROUP });
    expect(h.bridge.texts()).toHaveLength(1);
    expect(h.bridge.sentOfType('text').map((args) => args.chat)).toEqual([ALICE]);
  });

  it('takes the bot leaving a group and group changes quietly, keeping the group settings for its return', async () => {
    await using h = startRouterHarness({}, stickers);
    h.db.settings.setAutosticker('default', GROUP, true);
    const signal = new AbortController().signal;
    const events: BotEvent[] = [
      { type: 'group:participants-changed', chat: GROUP, action: 'remove', participants: ['15550000001@s.whatsapp.net'], includesSelf: true },
      { type: 'group:updated', chat: GROUP, subject: 'Renamed' },
      { type: 'group:participants-changed', chat: GROUP, action: 'add', participants: ['15550000001@s.whatsapp.net'], includesSelf: true },
    ];
    for (const event of events) await h.router.handle({ seq: ++h.seq, sessionId: 'default', ts: h.clock.now, event }, signal);
    expect(h.bridge.sent).toEqual([]);
    expect(h.db.settings.autosticker('default', GROUP)).toBe(true);
  });

  it('points a private chatter to the commands once, not on every message', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: 'take care!' });
    await h.send({ text: 'hello?' });
    await h.send({ text: 'hello everyone', isGroup: true, chat: GROUP });
    expect(h.bridge.texts()).toEqual(["Hi! Send me an image, GIF or video and I'll turn it into a sticker. Send !help for everything I can do."]);
  });

  it('acknowledges and ignores offline-backlog commands older than the cut-off, answers younger ones', async () => {
    await using h = startRouterHarness({ STICKERBOT_BACKLOG_MAX_AGE_S: '60' }, stickers);
    await h.send({ text: '!ping', backlog: true, timestamp: h.clock.now - 120_000 });
    expect(h.bridge.sent).toHaveLength(0);
    await h.send({ text: '!ping', backlog: true, timestamp: h.clock.now - 30_000 });
    expect(h.bridge.texts()).toHaveLength(1);
    await h.send({ text: '!ping', backlog: false, timestamp: h.clock.now - 3_600_000 });
    expect(h.bridge.texts()).toHaveLength(2);
  });

  it("ignores the bot's own messages and status broadcasts", async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!ping', fromMe: true });
    await h.send({ text: '!ping', chat: 'status@broadcast' });
    expect(h.bridge.sent).toHaveLength(0);
  });

  it('derives command ids from the triggering message, so handling it again reuses them', async () => {
    await using h = startRouterHarness({}, stickers);
    const message = await h.send({ id: 'ABCDEF123', text: '!ping' });
    await h.send(message);
    const ids = h.bridge.sent.map((command) => command.args.id);
    expect(ids).toEqual(['w.default:ABCDEF123.1', 'w.default:ABCDEF123.2', 'w.default:ABCDEF123.1', 'w.default:ABCDEF123.2']);
  });

  it('explains a daemon that is not connected to WhatsApp in plain words', async () => {
    await using h = startRouterHarness({}, stickers);
    h.bridge.failing['daemon:status'] = new StickerbotError('SESSION_NOT_CONNECTED');
    await h.send({ text: '!ping' });
    expect(h.bridge.texts()).toEqual(["WhatsApp isn't reachable from here right now. Please try again in a minute."]);
  });

  it('does not answer again when an earlier run already sent a different reply under the same command id', async () => {
    await using h = startRouterHarness({}, stickers);
    h.bridge.failing['message:send'] = new StickerbotError('IDEMPOTENCY_CONFLICT');
    await h.send({ text: '!ping' });
    expect(h.bridge.sent.map((c) => c.name)).toEqual(['daemon:status', 'message:send']);
  });

  it('treats a message as handled when WhatsApp is away and it cannot even answer', async () => {
    await using h = startRouterHarness({}, stickers);
    h.bridge.failing['message:send'] = new StickerbotError('SESSION_NOT_CONNECTED');
    await expect(h.send({ text: '!nonsense' })).resolves.toBeDefined();
    await expect(h.send({ text: '!ping' })).resolves.toBeDefined();
    expect(h.bridge.sent.map((c) => c.name)).toEqual(['message:send', 'daemon:status', 'message:send', 'message:send']);
  });

  describe('progress: ⏳ only for work still running after the delay', () => {
    it('answers fast work with no reactions, and never shows ⏳ later', async () => {
      const { command, open } = gatedCommand();
      await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '30' }, stickers, [command]);
      open();
      await h.send({ id: 'FAST1', text: '!work' });
      await sleep(80);
      expect(sends(h)).toEqual([['w.default:FAST1.1', 'text:done']]);
    });

    it('shows ⏳ while slow work runs, then the answer, then ✅, under ids that do not shift the sequence', async () => {
      const { command, open } = gatedCommand();
      await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '30' }, stickers, [command]);
      const handled = h.send({ id: 'SLOW1', text: '!work' });
      await waitFor(() => h.bridge.reactions().length > 0, 5_000, '⏳');
      expect(sends(h)).toEqual([['w.default:SLOW1.wait', '⏳']]);
      open();
      await handled;
      expect(sends(h)).toEqual([
        ['w.default:SLOW1.wait', '⏳'],
        ['w.default:SLOW1.1', 'text:done'],
        ['w.default:SLOW1.done', '✅'],
      ]);
    });

    it('answers a fast failure in words only, and a slow one with ⏳, words, then ❌', async () => {
      const fast = gatedCommand();
      await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '30' }, stickers, [fast.command]);
      fast.open();
      await h.send({ id: 'FAIL1', text: '!work fail' });
      expect(sends(h)).toEqual([['w.default:FAIL1.1', 'text:That did not work.']]);

      const slow = gatedCommand();
      await using s = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '30' }, stickers, [slow.command]);
      const handled = s.send({ id: 'FAIL2', text: '!work fail' });
      await waitFor(() => s.bridge.reactions().length > 0, 5_000, '⏳');
      slow.open();
      await handled;
      expect(sends(s).map(([, what]) => what)).toEqual(['⏳', 'text:That did not work.', '❌']);
    });

    it('never sends ⏳ after an answer went out, however long the work goes on', async () => {
      const { command, open } = gatedCommand();
      await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '30' }, stickers, [command]);
      const handled = h.send({ id: 'EARLY1', text: '!work early' });
      await sleep(80);
      open();
      await handled;
      expect(sends(h).map(([, what]) => what)).toEqual(['text:first answer']);
    });

    it('shows ⏳ at once with a delay of 0', async () => {
      const { command, open } = gatedCommand();
      await using h = startRouterHarness({ STICKERBOT_PROGRESS_DELAY_MS: '0' }, stickers, [command]);
      const handled = h.send({ id: 'NOW1', text: '!work' });
      await waitFor(() => h.bridge.reactions().length > 0, 5_000, '⏳');
      open();
      await handled;
      expect(sends(h).map(([, what]) => what)).toEqual(['⏳', 'text:done', '✅']);
    });
  });

  it('records usage statistics per command, user and chat', async () => {
    await using h = startRouterHarness({}, stickers);
    await h.send({ text: '!ping' });
    await h.send({ text: '!help' });
    await h.send({ text: '!stats' });
    const text = h.bridge.texts().at(-1) ?? '';
    expect(text).toContain('You: 2 commands');
    expect(text).toContain('Everyone: 1 users');
    expect(h.db.stats.counts({ user: ALICE }).map((c) => c.command).sort()).toEqual(['help', 'ping', 'stats']);
  });
});
