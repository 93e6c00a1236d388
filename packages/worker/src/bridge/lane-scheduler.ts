/**
 * Which journal entry starts next. Entries of one lane (one chat of one session) start in
 * the order they were added, one at a time; different lanes run side by side, up to
 * `concurrency` at once. Ready lanes take turns: sessions in a ring, and in each session
 * its ready lanes in a ring, so a lane with many queued entries holds one slot at a time
 * and a lane that just got its first entry waits for one free slot at most.
 *
 * A barrier entry (a session event, which has no chat) is a start barrier for its session:
 * no later entry of that session starts before it has finished. It waits for its own lane
 * only (not for earlier chats' work in flight), so the rare session event never waits
 * behind a slow sticker job, yet every entry after it sees its effect.
 */

/** An entry as the scheduler sees it. */
export interface Schedulable {
  /** Journal position (entries are added in increasing `seq`). */
  readonly seq: number;
  readonly sessionId: string;
  /** The lane key within the session (the chat); `undefined`: the session's barrier lane. */
  readonly chat: string | undefined;
}

/** The scheduler of {@link createLaneScheduler}. */
export interface LaneScheduler<T extends Schedulable> {
  /** Queues an entry behind the others of its lane. */
  add(item: T): void;
  /** The next entry to start (its lane is then busy), or `undefined` when none may start now. */
  next(): T | undefined;
  /** An entry returned by {@link next} has finished: its lane may start its next one. */
  finish(item: T): void;
  /** Drops every entry not started yet and returns them. */
  dropQueued(): T[];
  /** Entries started and not finished. */
  readonly running: number;
  /** Entries waiting to start. */
  readonly queued: number;
}

interface Lane<T> {
  readonly session: SessionLanes<T>;
  readonly key: string;
  /** Queued entries from `head` on (a moving head keeps a long lane's `shift` O(1)). */
  items: T[];
  head: number;
  busy: boolean;
  /** Whether the lane is in its session's `ready` or `blocked` list. */
  listed: boolean;
}

interface SessionLanes<T> {
  readonly id: string;
  readonly lanes: Map<string, Lane<T>>;
  /** Lanes whose head may start, in turn order. */
  ready: Lane<T>[];
  /** Lanes whose head waits for a barrier of the session to finish. */
  blocked: Lane<T>[];
  /** `seq`s of the session's unfinished barrier entries, ascending. */
  readonly barriers: number[];
}

const BARRIER_LANE = '\u0000session';

/** Creates a {@link LaneScheduler} that runs at most `concurrency` entries at once. */
export function createLaneScheduler<T extends Schedulable>(concurrency: number): LaneScheduler<T> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const sessions = new Map<string, SessionLanes<T>>();
  // Sessions with a ready lane, in turn order (a Map keeps insertion order; re-inserting moves one to the back).
  const ring = new Map<string, SessionLanes<T>>();
  let running = 0;
  let queued = 0;

  const laneKey = (item: T) => item.chat ?? BARRIER_LANE;

  const waiting = (lane: Lane<T>) => lane.items.length - lane.head;

  function list(lane: Lane<T>): void {
    if (lane.busy || lane.listed || waiting(lane) === 0) return;
    lane.listed = true;
    lane.session.ready.push(lane);
    if (!ring.has(lane.session.id)) ring.set(lane.session.id, lane.session);
  }

  function forget(lane: Lane<T>): void {
    if (lane.busy || waiting(lane) > 0) return;
    const session = lane.session;
    session.lanes.delete(lane.key);
    if (session.lanes.size === 0 && session.barriers.length === 0) sessions.delete(session.id);
  }

  return {
    add(item) {
      let session = sessions.get(item.sessionId);
      if (!session) {
        session = { id: item.sessionId, lanes: new Map(), ready: [], blocked: [], barriers: [] };
        sessions.set(item.sessionId, session);
      }
      const key = laneKey(item);
      let lane = session.lanes.get(key);
      if (!lane) {
        lane = { session, key, items: [], head: 0, busy: false, listed: false };
        session.lanes.set(key, lane);
      }
      lane.items.push(item);
      if (item.chat === undefined) session.barriers.push(item.seq);
      queued += 1;
      list(lane);
    },

    next() {
      if (running >= concurrency) return undefined;
      for (const session of ring.values()) {
        const barrier = session.barriers[0] ?? Infinity;
        let lane: Lane<T> | undefined;
        while ((lane = session.ready.shift())) {
          const head = lane.items[lane.head] as T;
          if (head.chat !== undefined && head.seq > barrier) {
            session.blocked.push(lane);
            continue;
          }
          lane.head += 1;
          if (lane.head === lane.items.length) {
            lane.items = [];
            lane.head = 0;
          } else if (lane.head >= 1024 && lane.head * 2 >= lane.items.length) {
            lane.items = lane.items.slice(lane.head);
            lane.head = 0;
          }
          lane.listed = false;
          lane.busy = true;
          running += 1;
          queued -= 1;
          ring.delete(session.id);
          if (session.ready.length > 0) ring.set(session.id, session);
          return head;
        }
        ring.delete(session.id);
      }
      return undefined;
    },

    finish(item) {
      const session = sessions.get(item.sessionId);
      const lane = session?.lanes.get(laneKey(item));
      if (!session || !lane?.busy) throw new Error(`entry ${item.seq} finished but was not running`);
      lane.busy = false;
      running -= 1;
      if (item.chat === undefined) {
        session.barriers.splice(session.barriers.indexOf(item.seq), 1);
        const waiting = session.blocked;
        session.blocked = [];
        for (const blocked of waiting) {
          blocked.listed = false;
          list(blocked);
        }
      }
      list(lane);
      forget(lane);
    },

    dropQueued() {
      const dropped: T[] = [];
      ring.clear();
      for (const session of sessions.values()) {
        session.ready = [];
        session.blocked = [];
        for (const lane of [...session.lanes.values()]) {
          for (const item of lane.items.slice(lane.head)) {
            dropped.push(item);
            if (item.chat === undefined) session.barriers.splice(session.barriers.indexOf(item.seq), 1);
          }
          lane.items = [];
          lane.head = 0;
          lane.listed = false;
          forget(lane);
        }
      }
      queued = 0;
      return dropped.sort((a, b) => a.seq - b.seq);
    },

    get running() {
      return running;
    },
    get queued() {
      return queued;
    },
  };
}
