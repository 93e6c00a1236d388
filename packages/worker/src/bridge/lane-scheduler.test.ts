import { describe, expect, it } from 'vitest';
import { createLaneScheduler, type Schedulable } from './lane-scheduler.js';

let seq = 0;
const item = (sessionId: string, chat: string | undefined): Schedulable => ({ seq: ++seq, sessionId, chat });

/** Starts everything that may start now and returns the seqs, in start order. */
function drain(scheduler: ReturnType<typeof createLaneScheduler<Schedulable>>): Schedulable[] {
  const started: Schedulable[] = [];
  let next: Schedulable | undefined;
  while ((next = scheduler.next())) started.push(next);
  return started;
}

describe('lane scheduler', () => {
  it('runs one entry per chat at a time, in order, and chats side by side up to the concurrency', () => {
    const scheduler = createLaneScheduler<Schedulable>(2);
    const a1 = item('s', 'a');
    const a2 = item('s', 'a');
    const b1 = item('s', 'b');
    const c1 = item('s', 'c');
    for (const entry of [a1, a2, b1, c1]) scheduler.add(entry);
    expect(drain(scheduler)).toEqual([a1, b1]);
    expect(scheduler.running).toBe(2);
    expect(scheduler.queued).toBe(2);
    scheduler.finish(a1);
    // a2 waited behind a1; c1 had its turn first (round-robin), and a2 comes after.
    expect(drain(scheduler)).toEqual([c1]);
    scheduler.finish(b1);
    expect(drain(scheduler)).toEqual([a2]);
  });

  it('lets another chat start after at most one job of a chat with many queued', () => {
    const scheduler = createLaneScheduler<Schedulable>(1);
    const videos = Array.from({ length: 10 }, () => item('s', 'busy'));
    for (const video of videos) scheduler.add(video);
    expect(drain(scheduler)).toEqual([videos[0]]);
    const ping = item('s', 'other');
    scheduler.add(ping);
    scheduler.finish(videos[0] as Schedulable);
    expect(drain(scheduler)).toEqual([ping]);
  });

  it('takes turns across sessions, not only across chats', () => {
    const scheduler = createLaneScheduler<Schedulable>(1);
    const first = item('big', 'c0');
    scheduler.add(first);
    const big = Array.from({ length: 5 }, (_, i) => item('big', `c${i + 1}`));
    for (const entry of big) scheduler.add(entry);
    const small = item('small', 'x');
    scheduler.add(small);
    expect(drain(scheduler)).toEqual([first]);
    scheduler.finish(first);
    // The big session just had its turn: the small session's only chat comes before its five other chats.
    expect(drain(scheduler)).toEqual([small]);
    scheduler.finish(small);
    expect(drain(scheduler)).toEqual([big[0]]);
  });

  it('starts a session event without waiting for earlier chats, and later entries of its session only after it', () => {
    const scheduler = createLaneScheduler<Schedulable>(8);
    const slow = item('s', 'a');
    scheduler.add(slow);
    expect(drain(scheduler)).toEqual([slow]);
    const event = item('s', undefined);
    const after = item('s', 'b');
    const otherSession = item('t', 'b');
    for (const entry of [event, after, otherSession]) scheduler.add(entry);
    expect(drain(scheduler)).toEqual([event, otherSession]);
    scheduler.finish(event);
    expect(drain(scheduler)).toEqual([after]);
    expect(scheduler.running).toBe(3);
  });

  it('drops what has not started and keeps what runs', () => {
    const scheduler = createLaneScheduler<Schedulable>(1);
    const a1 = item('s', 'a');
    const a2 = item('s', 'a');
    const event = item('s', undefined);
    for (const entry of [a1, a2, event]) scheduler.add(entry);
    expect(drain(scheduler)).toEqual([a1]);
    expect(scheduler.dropQueued()).toEqual([a2, event]);
    expect(scheduler.queued).toBe(0);
    scheduler.finish(a1);
    expect(scheduler.running).toBe(0);
    // The dropped session event no longer holds the session back.
    const b1 = item('s', 'b');
    scheduler.add(b1);
    expect(drain(scheduler)).toEqual([b1]);
  });
});
