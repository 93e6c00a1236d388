/**
 * Journaling of one session's WhatsApp events (DESIGN §4, delivery details). Every handler
 * appends to the journal first and synchronously, and only then tells anyone.
 *
 * An incoming message is journaled by `received`, which the patched Baileys calls after
 * decrypting it and before its receipt leaves: from then on WhatsApp will not send it again,
 * so it must already be durable. Baileys emits the same message again in `messages.upsert`;
 * `upsert` skips the ids `received` took and journals only what came no other way. A
 * message WhatsApp redelivers because the daemon died between the journal and the receipt
 * is found in the journal by id and not appended twice.
 */
import { MAX_PREVIEW_LENGTH, type BotEvent, type JournalEntry, type Message, type MessageSummary, type Session } from '@stickerbot/protocol';
import type { MessageUpsertType, WAMessage } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { fallbackMessage, mapMessage, mapMessageUpdate, mapParticipantsUpdate, mapReaction } from './message-mapper.js';
import type { SessionRegistryEvents } from './session-registry.js';
import type { Journal, JournalAppend } from './stores.js';
import type { WaSocketEvents } from './wa-socket.js';

/** Emits a registry event (the registry's emitter; listeners' exceptions are its concern). */
export type RegistryEmit = <E extends keyof SessionRegistryEvents>(event: E, ...args: SessionRegistryEvents[E]) => void;

/** Collaborators of {@link createSessionEvents}. */
export interface SessionEventsDeps {
  sessionId: string;
  journal: Pick<Journal, 'append' | 'appendMany' | 'findRawMessage'>;
  emit: RegistryEmit;
  logger: Logger;
  /** This session's account JID, once known. */
  selfJid: () => string | undefined;
  /** Server acks seen in `messages.update` (liveness). */
  onServerAck?: (messageId: string) => void;
  /** Called with every appended entry (metrics). */
  onJournaled?: (entry: JournalEntry) => void;
}

/** The journaling handlers of one session. */
export interface SessionEvents {
  /**
   * One decrypted message, before Baileys sends its receipt (`WaSocketOptions.beforeReceipt`).
   * Throws when the journal could not take it, so that Baileys refuses the message.
   */
  received: (raw: WAMessage, type: MessageUpsertType) => void;
  upsert: (payload: WaSocketEvents['messages.upsert']) => void;
  update: (payload: WaSocketEvents['messages.update']) => void;
  reaction: (payload: WaSocketEvents['messages.reaction']) => void;
  participants: (payload: WaSocketEvents['group-participants.update']) => void;
  sessionChanged: (session: Session) => void;
}

/** The dashboard's one-line summary of a message. */
export function summarize(sessionId: string, message: Message): MessageSummary {
  const summary: MessageSummary = {
    sessionId,
    id: message.id,
    chat: message.chat,
    sender: message.sender,
    fromMe: message.fromMe,
    kind: message.kind,
    preview: (message.text ?? '').slice(0, MAX_PREVIEW_LENGTH),
    timestamp: message.timestamp,
  };
  if (message.pushName !== undefined) summary.pushName = message.pushName;
  return summary;
}

const SERVER_ACK = 2;
/** Ids `received` took whose upsert has not come yet; Baileys emits it right after the receipt. */
const MAX_AWAITED_UPSERTS = 10_000;

/** Creates the journaling handlers of one session. */
export function createSessionEvents(deps: SessionEventsDeps): SessionEvents {
  const { sessionId, journal, emit, logger } = deps;

  function append(event: BotEvent, raw?: unknown): JournalEntry | undefined {
    try {
      const entry = journal.append(raw === undefined ? { sessionId, event } : { sessionId, event, raw });
      deps.onJournaled?.(entry);
      return entry;
    } catch (err) {
      // Nothing else can keep this event: say so as loudly as the logger allows.
      logger.fatal({ err, type: event.type, id: 'message' in event ? event.message.id : undefined }, 'journal append failed: event lost');
      return undefined;
    }
  }

  /** One transaction for a batch when the journal can; one by one when it cannot or the batch failed. */
  function appendAll(inputs: JournalAppend[]): (JournalEntry | undefined)[] {
    if (inputs.length > 1 && journal.appendMany) {
      try {
        const entries = journal.appendMany(inputs);
        for (const entry of entries) deps.onJournaled?.(entry);
        return entries;
      } catch (err) {
        logger.error({ err, count: inputs.length }, 'batch journal append failed; appending one by one');
      }
    }
    return inputs.map((input) => append(input.event, input.raw));
  }

  function publish(entries: readonly (JournalEntry | undefined)[]): void {
    for (const entry of entries) if (entry) emit('journaled', entry);
  }

  /** `append` is the offline backlog WhatsApp queued while the daemon was away: journaled like the rest and flagged. */
  function toMessage(raw: WAMessage, type: MessageUpsertType): Message | undefined {
    const backlog = type === 'append';
    const self = deps.selfJid();
    try {
      return mapMessage(raw, backlog, self === undefined ? {} : { selfJid: self });
    } catch (err) {
      logger.error({ err, id: raw.key.id }, 'could not map a message; journaling it as kind other');
      return fallbackMessage(raw, backlog);
    }
  }

  function announce(entry: JournalEntry, message: Message): void {
    emit('journaled', entry);
    emit('message:received', summarize(sessionId, message));
  }

  const awaitedUpserts = new Set<string>();

  return {
    received: (raw, type) => {
      const id = raw.key.id;
      if (id) {
        awaitedUpserts.add(id);
        if (awaitedUpserts.size > MAX_AWAITED_UPSERTS) {
          const oldest = awaitedUpserts.values().next().value;
          if (oldest !== undefined) awaitedUpserts.delete(oldest);
        }
        if (journal.findRawMessage(sessionId, id) !== undefined) {
          logger.info({ id }, 'WhatsApp delivered a journaled message again; not journaling it twice');
          return;
        }
      }
      const message = toMessage(raw, type);
      if (!message) return;
      let entry: JournalEntry;
      try {
        entry = journal.append({ sessionId, event: { type: 'message:received', message }, raw });
      } catch (err) {
        logger.error({ err, id }, 'journal append failed: refusing the message so that WhatsApp keeps it');
        throw err;
      }
      deps.onJournaled?.(entry);
      announce(entry, message);
    },
    upsert: ({ messages, type }) => {
      // Messages that reach the journal only here (those Baileys makes itself, and every
      // message when the socket has no `beforeReceipt`) were acknowledged to WhatsApp
      // already: until `journal.append` returns, a crash loses them. Keep this window
      // minimal: map (pure, synchronous) and append the batch synchronously (better-sqlite3,
      // WAL, one transaction) before anything else sees it: no await, no emit, no I/O but
      // the journal.
      const mapped: { message: Message; raw: unknown }[] = [];
      for (const raw of messages) {
        const id = raw.key.id;
        if (id && awaitedUpserts.delete(id)) continue;
        const message = toMessage(raw, type);
        if (message) mapped.push({ message, raw });
      }
      const entries = appendAll(mapped.map(({ message, raw }) => ({ sessionId, event: { type: 'message:received', message }, raw })));
      const journaled: { entry: JournalEntry; message: Message }[] = [];
      mapped.forEach(({ message }, i) => {
        const entry = entries[i];
        if (entry) journaled.push({ entry, message });
      });
      for (const { entry, message } of journaled) announce(entry, message);
    },
    update: (updates) => {
      const entries = [];
      for (const update of updates) {
        const event = mapMessageUpdate(update);
        if (!event) continue;
        entries.push(append(event));
      }
      for (const update of updates) {
        if (update.key.fromMe && update.key.id && Number(update.update.status ?? 0) >= SERVER_ACK) {
          deps.onServerAck?.(update.key.id);
        }
      }
      publish(entries);
    },
    reaction: (reactions) => {
      const self = deps.selfJid();
      const entries = [];
      for (const reaction of reactions) {
        const event = mapReaction(reaction, self === undefined ? {} : { selfJid: self });
        if (event) entries.push(append(event));
      }
      publish(entries);
    },
    participants: (update) => {
      const event = mapParticipantsUpdate(update);
      if (event) publish([append(event)]);
    },
    sessionChanged: (session) => {
      publish([append({ type: 'session:changed', session })]);
    },
  };
}
