/**
 * One session's group metadata, as the worker reads it with `group:metadata`. A group is
 * fetched from WhatsApp the first time it is asked for, then kept current by the same
 * notifications that become `group:participants-changed` and `group:updated` (applied before
 * those events are published, so a worker reacting to one reads the new state), and dropped
 * when the bot leaves or is removed. The worker asks for it on every admin check; without the
 * cache each would be a WhatsApp query.
 */
import type { BotEventOf, WorkerCommandResult } from '@stickerbot/protocol';
import type { GroupMetadata } from '@whiskeysockets/baileys';
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from '@stickerbot/protocol';
import { estimateBytes } from './estimate-bytes.js';
import { normalizeJid, personIds, type MapContext, type PersonIds } from './message-mapper.js';

/** The two map entries (`groups`, `fetchedAt`) and the array of a cached group, besides its content. */
const GROUP_ENTRY_OVERHEAD = 120;

/** A group's metadata in protocol shape (the `group:metadata` result). */
export type GroupInfo = WorkerCommandResult<'group:metadata'>;

/** A participant change as the cache applies it: the people with both their ids. */
export interface ParticipantsChange {
  chat: string;
  action: BotEventOf<'group:participants-changed'>['action'];
  people: readonly PersonIds[];
  /** Whether the bot's own account is among them. */
  includesSelf: boolean;
}

/** The group metadata cache of one session. */
export interface GroupMetadataCache {
  /** The group's metadata: from the cache, else `fetch`ed (concurrent misses share one fetch). */
  get(chat: string, fetch: () => Promise<GroupMetadata>): Promise<GroupInfo>;
  /** Stores a full snapshot WhatsApp sent unasked (Baileys' `groupFetchAllParticipating`). */
  put(meta: GroupMetadata): void;
  /** The cached subject, if the group is cached. */
  subject(chat: string): string | undefined;
  /** Applies a participant change (the bot leaving or being removed drops the group). */
  applyParticipants(change: ParticipantsChange): void;
  /** Applies a settings change. */
  applyUpdate(event: BotEventOf<'group:updated'>): void;
  /** Forgets every group (a new connection or another account). */
  clear(): void;
  /** How many groups are cached. */
  readonly size: number;
  /**
   * Estimated bytes the cached groups hold (`estimate-bytes.ts`): each group weighed without
   * its participants, plus its participant count times the weight of its first participant,
   * so a scrape costs one pass over the groups, not over every member.
   */
  readonly bytes: number;
}

/** Bounds of one session's group cache. */
export interface GroupCacheLimits {
  /** Most groups kept; the least recently used go first (default 500). */
  maxGroups: number;
  /**
   * A group fetched longer ago than this is fetched afresh on its next use (ms, default 1 h):
   * notifications keep it current, this bounds the damage of one that was missed.
   */
  maxAgeMs: number;
}

/** The defaults of {@link GroupCacheLimits}. */
export const DEFAULT_GROUP_CACHE_LIMITS: Readonly<GroupCacheLimits> = Object.freeze({ maxGroups: 500, maxAgeMs: 3_600_000 });

/** Baileys' `GroupMetadata` → the protocol's, members phone-number first (see `personIds`). */
export function toGroupInfo(meta: GroupMetadata, context: MapContext = {}): GroupInfo {
  const info: GroupInfo = {
    jid: meta.id,
    subject: meta.subject.slice(0, MAX_NAME_LENGTH),
    participants: meta.participants.map((p) => {
      const person = personIds(p.id, p.phoneNumber, context);
      if (person.lid === undefined && p.lid?.endsWith('@lid')) person.lid = normalizeJid(p.lid);
      return p.admin ? { ...person, admin: p.admin } : person;
    }),
  };
  if (meta.desc) info.description = meta.desc.slice(0, MAX_TEXT_LENGTH);
  if (meta.owner) info.owner = personIds(meta.owner, meta.ownerPn, context).jid;
  if (meta.creation) info.createdAt = meta.creation * 1000;
  if (typeof meta.announce === 'boolean') info.announce = meta.announce;
  if (typeof meta.restrict === 'boolean') info.restrict = meta.restrict;
  return info;
}

function samePerson(a: PersonIds, b: PersonIds): boolean {
  return a.jid === b.jid || (a.lid !== undefined && (a.lid === b.lid || a.lid === b.jid)) || (b.lid !== undefined && b.lid === a.jid);
}

function copy(info: GroupInfo): GroupInfo {
  return { ...info, participants: info.participants.map((p) => ({ ...p })) };
}

/** Creates an empty cache. `toInfo` maps what WhatsApp answers (it knows the session's LID mapping). */
export function createGroupMetadataCache(
  toInfo: (meta: GroupMetadata) => GroupInfo,
  limits: Partial<GroupCacheLimits> = {},
  now: () => number = Date.now,
): GroupMetadataCache {
  const { maxGroups, maxAgeMs } = { ...DEFAULT_GROUP_CACHE_LIMITS, ...limits };
  const groups = new Map<string, GroupInfo>();
  const fetchedAt = new Map<string, number>();
  const inFlight = new Map<string, Promise<GroupInfo>>();
  // Groups changed while their fetch was under way: that answer may predate the change.
  const changedDuringFetch = new Set<string>();
  let generation = 0;

  function remember(chat: string, info: GroupInfo, at?: number): void {
    groups.delete(chat);
    groups.set(chat, info);
    if (at !== undefined) fetchedAt.set(chat, at);
    if (groups.size > maxGroups) {
      const oldest = groups.keys().next().value;
      if (oldest !== undefined) forget(oldest);
    }
  }

  function forget(chat: string): void {
    groups.delete(chat);
    fetchedAt.delete(chat);
  }

  function touched(chat: string): void {
    if (inFlight.has(chat)) changedDuringFetch.add(chat);
  }

  return {
    get(chat, fetch) {
      let cached = groups.get(chat);
      if (cached && now() - (fetchedAt.get(chat) ?? 0) >= maxAgeMs) {
        forget(chat);
        cached = undefined;
      }
      if (cached) {
        remember(chat, cached);
        return Promise.resolve(copy(cached));
      }
      let pending = inFlight.get(chat);
      if (!pending) {
        const started = generation;
        pending = fetch()
          .then((meta) => {
            const info = toInfo(meta);
            if (!changedDuringFetch.has(chat) && started === generation) remember(chat, info, now());
            return info;
          })
          .finally(() => {
            inFlight.delete(chat);
            changedDuringFetch.delete(chat);
          });
        inFlight.set(chat, pending);
      }
      return pending.then(copy);
    },

    put(meta) {
      touched(meta.id);
      remember(meta.id, toInfo(meta), now());
    },

    subject: (chat) => groups.get(chat)?.subject,

    applyParticipants({ chat, action, people, includesSelf }) {
      touched(chat);
      // Removed: WhatsApp answers no more queries for the group. Added back: whatever was
      // cached may have missed changes made while the bot was out.
      if (includesSelf) {
        forget(chat);
        return;
      }
      const info = groups.get(chat);
      if (!info) return;
      const concerns = (p: PersonIds) => people.some((person) => samePerson(p, person));
      switch (action) {
        case 'add':
          for (const person of people) if (!info.participants.some((p) => samePerson(p, person))) info.participants.push({ ...person });
          return;
        case 'remove':
          info.participants = info.participants.filter((p) => !concerns(p));
          return;
        case 'promote':
          for (const p of info.participants) if (concerns(p) && p.admin === undefined) p.admin = 'admin';
          return;
        case 'demote':
          for (const p of info.participants) if (concerns(p)) delete p.admin;
          return;
      }
    },

    applyUpdate(event) {
      touched(event.chat);
      const info = groups.get(event.chat);
      if (!info) return;
      if (event.subject !== undefined) info.subject = event.subject;
      if (event.description !== undefined) {
        if (event.description) info.description = event.description;
        else delete info.description;
      }
      if (event.announce !== undefined) info.announce = event.announce;
      if (event.restrict !== undefined) info.restrict = event.restrict;
    },

    clear() {
      generation += 1;
      groups.clear();
      fetchedAt.clear();
    },

    get size() {
      return groups.size;
    },

    get bytes() {
      let sum = 0;
      for (const [chat, info] of groups) {
        const { participants, ...rest } = info;
        const first = participants[0];
        sum += GROUP_ENTRY_OVERHEAD + chat.length + estimateBytes(rest) + (first === undefined ? 0 : participants.length * estimateBytes(first));
      }
      return sum;
    },
  };
}
