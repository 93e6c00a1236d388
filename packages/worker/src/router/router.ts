import { StickerbotError, type JournalEntry, type Message } from '@stickerbot/protocol';
import type { CommandSender } from '../bridge/bridge-client.js';
import { createCommandIds } from '../bridge/command-ids.js';
import { visualKind } from '../media/media-source.js';
import { createCommandContext, type Invocation } from './command-context.js';
import { describeFailure } from './command-failure.js';
import type { CommandDefinition, CommandServices } from './define-command.js';
import { parseBare, parseCommandLine } from './parse.js';
import { createRateLimiter, type RateLimitOptions } from './rate-limiter.js';
import { closest } from './suggest.js';

/** Options of {@link createRouter}. */
export interface RouterOptions {
  services: CommandServices;
  bridge: CommandSender;
  /** Per-sender token bucket (default: bursts of 5, one more every 4 s). */
  rateLimit?: RateLimitOptions;
}

/** Routes journal entries to chat commands. */
export interface Router {
  /** Handles one entry; never throws for a user's mistake (it answers instead). */
  handle(entry: JournalEntry, signal: AbortSignal): Promise<void>;
}

/** The phone number of a JID (`4915…:12@s.whatsapp.net` → `4915…`), if it is a phone JID. */
export function phoneOf(jid: string): string | undefined {
  const [user, server] = jid.split('@');
  if (server !== 's.whatsapp.net' && server !== 'c.us') return undefined;
  return user?.split(':')[0];
}

const IGNORED_CHATS = /@(broadcast|newsletter)$/;
const HINT_EVERY_MS = 12 * 3600 * 1000;
const MAX_HINTED_CHATS = 10_000;

/**
 * The command router: prefix, command word and arguments, aliases, typo suggestions,
 * per-sender rate limits, private and group rules, owner-only commands, the offline
 * backlog cut-off, and auto-sticker for media in chats where it is on.
 */
export function createRouter(options: RouterOptions): Router {
  const { services, bridge } = options;
  const { config, registry, db } = services;
  const log = services.log.child({ module: 'router' });
  const hinted = new Map<string, number>();
  const limiter = createRateLimiter(options.rateLimit ?? { capacity: 5, refillPerSecond: 0.25 }, services.now);

  function autostickerOn(sessionId: string, message: Message): boolean {
    return db.settings.autosticker(sessionId, message.chat) ?? !message.isGroup;
  }

  async function run(command: CommandDefinition, invocation: Invocation, ids: ReturnType<typeof createCommandIds>): Promise<void> {
    const { context, progress } = createCommandContext(invocation, bridge, ids, services);
    const { message } = invocation;
    const clog = log.child({ command: command.name, messageId: message.id, chat: message.chat });
    let ok = true;
    const started = services.now();
    try {
      await command.run(context);
      await progress.finish('✅');
    } catch (error) {
      if (error instanceof StickerbotError && error.code === 'IDEMPOTENCY_CONFLICT') {
        // Handling an entry again reuses its command ids (createCommandIds); a conflict means
        // an earlier run already sent under this id with other content (a `!ping` reply
        // carries its round trip), so the user has an answer: a failure reply would be a second.
        clog.info({ reason: error.message }, 'an earlier run already answered this message; not answering again');
        return;
      }
      ok = false;
      const words = describeFailure(error, config.maxMediaBytes);
      clog.warn({ err: error }, `command failed: ${words}`);
      // A failure is always answered in words; the ❌ only replaces a ⏳ the user saw.
      try {
        await context.reply(words);
        await progress.finish('❌');
      } catch (replyError) {
        clog.warn({ err: replyError }, 'could not tell the user about the failure');
      }
    } finally {
      progress.cancel();
      db.stats.record(invocation.auto ? `${command.name}:auto` : command.name, message.sender, message.chat, ok);
      clog.info({ ok, auto: invocation.auto, ms: services.now() - started }, 'command handled');
    }
  }

  async function rateLimited(sender: string, reply: () => Promise<void>): Promise<boolean> {
    const decision = limiter.take(sender);
    if (decision === 'allow') return false;
    if (decision === 'warn') await reply();
    return true;
  }

  function shouldHint(chat: string): boolean {
    const at = services.now();
    const last = hinted.get(chat);
    if (last !== undefined && at - last < HINT_EVERY_MS) return false;
    if (hinted.size >= MAX_HINTED_CHATS) {
      for (const [key, when] of hinted) if (at - when >= HINT_EVERY_MS) hinted.delete(key);
      if (hinted.size >= MAX_HINTED_CHATS) hinted.clear();
    }
    hinted.set(chat, at);
    return true;
  }

  async function handleMessage(sessionId: string, message: Message, signal: AbortSignal): Promise<void> {
    if (message.fromMe || IGNORED_CHATS.test(message.chat)) return;
    const age = services.now() - message.timestamp;
    if (message.backlog && age > config.backlogMaxAgeMs) {
      log.debug({ messageId: message.id, ageS: Math.round(age / 1000) }, 'offline-backlog message too old; ignored');
      return;
    }
    const ids = createCommandIds(`${sessionId}:${message.id}`);
    const phone = phoneOf(message.sender);
    const isOwner = phone !== undefined && config.owners.includes(phone);
    const base = { sessionId, message, isOwner, signal };
    // Router-level answers (unknown command, refusals, slow down) are best effort: when
    // WhatsApp is away there is nobody to tell, and the message still counts as handled.
    const replyWith = (text: string) => async () => {
      try {
        await createCommandContext({ ...base, args: [], rest: '', invokedAs: '', auto: false }, bridge, ids, services).context.reply(text);
      } catch (error) {
        log.warn({ err: error, messageId: message.id }, 'could not answer');
      }
    };

    const text = message.text ?? '';
    let parsed = parseCommandLine(text, config.prefix);
    // In a private chat a bare command word also works ("help"); groups need the prefix.
    if (!parsed && !message.isGroup) {
      const bare = parseBare(text);
      if (bare && registry.find(bare.name) && bare.args.length === 0) parsed = bare;
    }

    if (parsed) {
      const command = registry.find(parsed.name);
      if (await rateLimited(message.sender, replyWith('Slow down a little, please: I answer again in a few seconds. 🙂'))) return;
      if (!command) {
        const guess = closest(parsed.name, registry.words());
        const hint = guess ? ` Did you mean ${config.prefix}${guess}?` : '';
        await replyWith(`I don't know ${config.prefix}${parsed.name}.${hint} Send ${config.prefix}help for the list.`)();
        return;
      }
      if (command.ownerOnly && !isOwner) {
        await replyWith(`Only the bot's owners can use ${config.prefix}${command.name}.`)();
        return;
      }
      if (command.scope === 'group' && !message.isGroup) {
        await replyWith(`${config.prefix}${command.name} only works in groups.`)();
        return;
      }
      if (command.scope === 'private' && message.isGroup) {
        await replyWith(`${config.prefix}${command.name} only works in a private chat with me.`)();
        return;
      }
      await run(command, { ...base, args: parsed.args, rest: parsed.rest, invokedAs: parsed.name, auto: false }, ids);
      return;
    }

    const kind = visualKind(message.kind, message.media?.mimetype);
    if (kind && kind !== 'sticker' && autostickerOn(sessionId, message)) {
      const sticker = registry.find('sticker');
      if (!sticker) return;
      if (await rateLimited(message.sender, replyWith('Slow down a little, please: I answer again in a few seconds. 🙂'))) return;
      await run(sticker, { ...base, args: [], rest: '', invokedAs: 'sticker', auto: true }, ids);
      return;
    }

    // Someone chatting to the bot in private gets one pointer to the commands, not one per message.
    if (!message.isGroup && message.kind === 'text' && shouldHint(message.chat)) {
      await replyWith(`Hi! Send me an image, GIF or video and I'll turn it into a sticker. Send ${config.prefix}help for everything I can do.`)();
    }
  }

  return {
    async handle(entry, signal) {
      const event = entry.event;
      if (event.type === 'session:changed') {
        services.accounts.set(entry.sessionId, event.session.account);
        return;
      }
      if (event.type === 'group:participants-changed' && event.includesSelf && event.action === 'remove') {
        // Nothing to undo: the group's settings stay for when the bot is added back.
        log.info({ sessionId: entry.sessionId, chat: event.chat }, 'the bot left or was removed from a group');
        return;
      }
      if (event.type === 'reaction:received') {
        // Reactions to stickers the bot sent count in `top`; others are not the bot's business.
        const sticker = db.catalogue.recordReaction(entry.sessionId, event.messageId, event.sender, event.emoji);
        if (sticker !== undefined) log.debug({ sessionId: entry.sessionId, messageId: event.messageId, emoji: event.emoji }, 'reaction to a sticker counted');
        return;
      }
      if (event.type !== 'message:received') return;
      await handleMessage(entry.sessionId, event.message, signal);
    },
  };
}
