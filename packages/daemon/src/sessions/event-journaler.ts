/**
 * Journaling of one session's WhatsApp events (DESIGN §4, delivery details). Every handler
 * appends to the journal first, and only then tells anyone. Over SQLite the append is
 * synchronous; over cluster mode's Redis journal it is a promise, and the session's appends
 * are chained (each waits for the one before it), so that its entries keep the order of its
 * events whatever the connection does (a reconnect resends, a failed append is not retried).
 *
 * An incoming message is journaled by `received`, which the patched Baileys calls after
 * decrypting it and before its receipt leaves: from then on WhatsApp will not send it again,
 * so it must already be durable. Baileys emits the same message again in `messages.upsert`;
 * `upsert` skips the ids `received` took and journals only what came no other way. A
 * reaction, edit or delete arrives as a message too: `received` journals the event Baileys
 * will derive from it, and the `messages.reaction` / `messages.update` that brings the same
 * event later is skipped (only an identical event: anything else is journaled). A message
 * WhatsApp redelivers because the daemon died between the journal and the receipt is found
 * in the journal by id and not appended twice.
 */
import { MAX_PREVIEW_LENGTH, type BotEvent, type JournalEntry, type Message, type MessageSummary, type Session } from '@stickerbot/protocol';
import type { GroupMetadata, MessageUpsertType, WAMessage } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { GroupMetadataCache } from './group-metadata-cache.js';
import {
  fallbackMessage,
  isSelf,
  mapDerivedEvent,
  mapGroupUpdate,
  mapMessage,
  mapMessageUpdate,
  mapParticipantsUpdate,
  mapReaction,
  participantsOf,
  type MapContext,
} from './message-mapper.js';
import type { SessionRegistryEvents } from '../session-registry.js';
import type { JournalAppend } from '../storage/index.js';
import { andThen, createInOrder, isPromise, type MaybePromise } from './maybe-promise.js';
import type { SessionJournal } from './session-journal.js';
import type { WaSocketEvents } from './wa-socket.js';

/** Emits a registry event (the registry's emitter; listeners' exceptions are its concern). */
export type RegistryEmit = <E extends keyof SessionRegistryEvents>(event: E, ...args: SessionRegistryEvents[E]) => void;

/** Collaborators of {@link createEventJournaler}. */
export interface EventJournalerDeps {
  sessionId: string;
  journal: Pick<SessionJournal, 'append' | 'appendMany' | 'hasMessage'>;
  emit: RegistryEmit;
  logger: Logger;
  /** This session's account JID, once known. */
  selfJid: () => string | undefined;
  /** This session's LID, once known. */
  selfLid?: () => string | undefined;
  /** The phone-number JID of a LID from the session's stored LID mapping (see `MapContext.phoneOfLid`). */
  phoneOfLid?: (lid: string) => string | undefined;
  /** The session's group metadata, updated by group notifications before their events are published. */
  groups?: GroupMetadataCache;
  /** Server acks seen in `messages.update` (liveness). */
  onServerAck?: (messageId: string) => void;
  /** Called with every appended entry (metrics). */
  onJournaled?: (entry: JournalEntry) => void;
}

/** The journaling handlers of one session. */
export interface EventJournaler {
  /**
   * One decrypted message, before Baileys sends its receipt (`WaSocketOptions.beforeReceipt`).
   * Throws (over SQLite) or rejects (over Redis: it resolves once Redis acknowledged the
   * append) when the journal could not take it, so that Baileys refuses the message.
   */
  received: (raw: WAMessage, type: MessageUpsertType) => void | Promise<void>;
  upsert: (payload: WaSocketEvents['messages.upsert']) => void;
  update: (payload: WaSocketEvents['messages.update']) => void;
  reaction: (payload: WaSocketEvents['messages.reaction']) => void;
  participants: (payload: WaSocketEvents['group-participants.update']) => void;
  groups: (payload: WaSocketEvents['groups.update']) => void;
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
/**
 * Bounds the ids and events `received` journaled whose Baileys event has not come yet (the
 * upsert follows right after the receipt; a derived event at the latest when Baileys flushes
 * its event buffer).
 */
const MAX_AWAITED = 10_000;

/** Remembers what `received` journaled until its duplicate from Baileys comes (then forgets it). */
function createAwaited(): { add(key: string): void; take(key: string): boolean } {
  const counts = new Map<string, number>();
  return {
    add(key) {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (counts.size > MAX_AWAITED) {
        const oldest = counts.keys().next().value;
        if (oldest !== undefined) counts.delete(oldest);
      }
    },
    take(key) {
      const count = counts.get(key);
      if (count === undefined) return false;
      if (count > 1) counts.set(key, count - 1);
      else counts.delete(key);
      return true;
    },
  };
}

/** Whether a `groups.update` entry is a whole group's metadata rather than a change. */
function isGroupSnapshot(update: Partial<GroupMetadata>): update is GroupMetadata {
  return typeof update.id === 'string' && typeof update.subject === 'string' && Array.isArray(update.participants);
}

/** Creates the journaling handlers of one session. */
export function createEventJournaler(deps: EventJournalerDeps): EventJournaler {
  const { sessionId, journal, emit, logger } = deps;

  function mapContext(): MapContext {
    const context: MapContext = {};
    const self = deps.selfJid();
    if (self !== undefined) context.selfJid = self;
    const selfLid = deps.selfLid?.();
    if (selfLid !== undefined) context.selfLid = selfLid;
    if (deps.phoneOfLid) context.phoneOfLid = deps.phoneOfLid;
    return context;
  }

  // Each append starts after the session's asynchronous one still under way (never one over
  // SQLite, whose appends complete before they return).
  const inOrder = createInOrder();

  function journaled(entry: JournalEntry): JournalEntry {
    deps.onJournaled?.(entry);
    return entry;
  }

  function append(event: BotEvent, raw?: WAMessage): MaybePromise<JournalEntry | undefined> {
    const lost = (err: unknown): undefined => {
      // Nothing else can keep this event: say so as loudly as the logger allows.
      logger.fatal({ err, type: event.type, id: 'message' in event ? event.message.id : undefined }, 'journal append failed: event lost');
      return undefined;
    };
    try {
      const result = inOrder(() => journal.append(raw === undefined ? { sessionId, event } : { sessionId, event, raw }));
      return isPromise(result) ? result.then(journaled, lost) : journaled(result);
    } catch (err) {
      return lost(err);
    }
  }

  /** Waits for every value that is a promise; plain values stay synchronous. */
  function all<T>(values: MaybePromise<T>[]): MaybePromise<T[]> {
    return values.some(isPromise) ? Promise.all(values) : (values as T[]);
  }

  /** One transaction for a batch when the journal can; one by one when it cannot or the batch failed. */
  function appendAll(inputs: JournalAppend[]): MaybePromise<(JournalEntry | undefined)[]> {
    const oneByOne = () => all(inputs.map((input) => append(input.event, input.raw)));
    const appendMany = journal.appendMany?.bind(journal);
    if (inputs.length > 1 && appendMany) {
      const failed = (err: unknown) => {
        logger.error({ err, count: inputs.length }, 'batch journal append failed; appending one by one');
        return oneByOne();
      };
      try {
        const result = inOrder(() => appendMany(inputs));
        return isPromise(result) ? result.then((entries) => entries.map(journaled), failed) : result.map(journaled);
      } catch (err) {
        return failed(err);
      }
    }
    return oneByOne();
  }

  function publish(entries: readonly (JournalEntry | undefined)[]): void {
    for (const entry of entries) if (entry) emit('journaled', entry);
  }

  /** `append` is the offline backlog WhatsApp queued while the daemon was away: journaled like the rest and flagged. */
  function toMessage(raw: WAMessage, type: MessageUpsertType): Message | undefined {
    const backlog = type === 'append';
    try {
      return mapMessage(raw, backlog, mapContext());
    } catch (err) {
      logger.error({ err, id: raw.key.id }, 'could not map a message; journaling it as kind other');
      return fallbackMessage(raw, backlog);
    }
  }

  function announce(entry: JournalEntry, message: Message): void {
    emit('journaled', entry);
    emit('message:received', summarize(sessionId, message));
  }

  const awaitedUpserts = createAwaited();
  const awaitedEvents = createAwaited();

  /**
   * Appends before the receipt (called inside the session's append order): a failure is
   * thrown to Baileys, which then refuses the message.
   */
  function appendBeforeReceipt(input: JournalAppend, id: string | null | undefined): MaybePromise<JournalEntry> {
    const refuse = (err: unknown): never => {
      logger.error({ err, id }, 'journal append failed: refusing the message so that WhatsApp keeps it');
      throw err;
    };
    try {
      const result = journal.append(input);
      return isPromise(result) ? result.then(journaled, refuse) : journaled(result);
    } catch (err) {
      return refuse(err);
    }
  }

  /** Whether the message is journaled already (WhatsApp delivers it again); a failed lookup refuses the message. */
  function journaledBefore(id: string | null | undefined): MaybePromise<boolean> {
    if (!id) return false;
    const refuse = (err: unknown): never => {
      logger.error({ err, id }, 'could not look the message up in the journal: refusing it so that WhatsApp keeps it');
      throw err;
    };
    try {
      const known = journal.hasMessage(sessionId, id);
      return isPromise(known) ? known.catch(refuse) : known;
    } catch (err) {
      return refuse(err);
    }
  }

  /** Journals one message before its receipt; the duplicate check and the append are one step of the session's order. */
  function receive(raw: WAMessage, type: MessageUpsertType, known: boolean): MaybePromise<void> {
    const id = raw.key.id;
    if (known) {
      logger.info({ id }, 'WhatsApp delivered a journaled message again; not journaling it twice');
      return;
    }
    const message = toMessage(raw, type);
    if (message) return andThen(appendBeforeReceipt({ sessionId, event: { type: 'message:received', message }, raw }, id), (entry) => announce(entry, message));
    const derived = mapDerivedEvent(raw, mapContext());
    if (!derived) return;
    return andThen(appendBeforeReceipt({ sessionId, event: derived }, id), (entry) => {
      awaitedEvents.add(JSON.stringify(derived));
      publish([entry]);
    });
  }

  return {
    received: (raw, type) => {
      const id = raw.key.id;
      if (id) awaitedUpserts.add(id);
      return inOrder(() => andThen(journaledBefore(id), (known) => receive(raw, type, known)));
    },
    upsert: ({ messages, type }) => {
      // Messages that reach the journal only here (those Baileys makes itself, and every
      // message when the socket has no `beforeReceipt`) were acknowledged to WhatsApp
      // already: until `journal.append` returns, a crash loses them. Keep this window
      // minimal: map (pure, synchronous) and append the batch synchronously (better-sqlite3,
      // WAL, one transaction) before anything else sees it: no await, no emit, no I/O but
      // the journal.
      const mapped: { message: Message; raw: WAMessage }[] = [];
      for (const raw of messages) {
        const id = raw.key.id;
        if (id && awaitedUpserts.take(id)) continue;
        const message = toMessage(raw, type);
        if (message) mapped.push({ message, raw });
      }
      void andThen(appendAll(mapped.map(({ message, raw }) => ({ sessionId, event: { type: 'message:received', message }, raw }))), (entries) => {
        const done: { entry: JournalEntry; message: Message }[] = [];
        mapped.forEach(({ message }, i) => {
          const entry = entries[i];
          if (entry) done.push({ entry, message });
        });
        for (const { entry, message } of done) announce(entry, message);
      });
    },
    update: (updates) => {
      const entries = [];
      for (const update of updates) {
        const event = mapMessageUpdate(update);
        if (!event || awaitedEvents.take(JSON.stringify(event))) continue;
        entries.push(append(event));
      }
      for (const update of updates) {
        if (update.key.fromMe && update.key.id && Number(update.update.status ?? 0) >= SERVER_ACK) {
          deps.onServerAck?.(update.key.id);
        }
      }
      void andThen(all(entries), publish);
    },
    reaction: (reactions) => {
      const context = mapContext();
      const entries = [];
      for (const reaction of reactions) {
        const event = mapReaction(reaction, context);
        if (event && !awaitedEvents.take(JSON.stringify(event))) entries.push(append(event));
      }
      void andThen(all(entries), publish);
    },
    participants: (update) => {
      const context = mapContext();
      const event = mapParticipantsUpdate(update, context);
      if (!event) return;
      const subject = deps.groups?.subject(event.chat);
      if (subject !== undefined) event.subject = subject;
      const people = participantsOf(update, context);
      void andThen(append(event), (entry) => {
        deps.groups?.applyParticipants({ chat: event.chat, action: event.action, people, includesSelf: people.some((p) => isSelf(p, context)) });
        if (event.includesSelf && event.action === 'remove') logger.info({ chat: event.chat }, 'the bot left or was removed from a group');
        publish([entry]);
      });
    },
    groups: (updates) => {
      const context = mapContext();
      const entries = [];
      for (const update of updates) {
        // Baileys re-fetches every group it is in on a `dirty` notification and emits each whole
        // (participants included) as an "update": a snapshot for the cache, not a change.
        if (isGroupSnapshot(update)) {
          deps.groups?.put(update);
          continue;
        }
        const event = mapGroupUpdate(update, context);
        if (!event) continue;
        entries.push(
          andThen(append(event), (entry) => {
            deps.groups?.applyUpdate(event);
            return entry;
          }),
        );
      }
      void andThen(all(entries), publish);
    },
    sessionChanged: (session) => {
      void andThen(append({ type: 'session:changed', session }), (entry) => publish([entry]));
    },
  };
}
