/**
 * Session takeover between real processes (issue 17): three children each run the session
 * balancer over one Redis and divide twelve sessions; one is SIGKILLed (it never stops its
 * sessions), and the two others take its sessions the moment its leases and membership run
 * out, within the lease time of the kill (its last renew was up to a third of a lease before
 * it died, so not before two thirds of one); then one is stopped with SIGTERM and the last takes everything at once.
 * At no moment do two processes run one session, judged from their own start/stop reports.
 */
import type { ChildProcess } from 'node:child_process';
import { createRedisKeys } from '@stickerbot/daemon';
import { describe, expect, it } from 'vitest';
import { BALANCER_CHILD } from '../scripts/support/cluster-children.js';
import { exited, until } from '../scripts/support/process-stack.js';
import { useClusterChildren } from './support/cluster-children.js';

const LEASE_MS = 3_000;
const TICK_MS = LEASE_MS / 3;
/** What the survivors take to acquire the leases and report the starts, on a shared machine. */
const ACQUIRE_MARGIN_MS = 400;
const SESSIONS = Array.from({ length: 12 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
const keys = createRedisKeys('test-takeover:');
const cluster = useClusterChildren();

interface Report {
  event: 'start' | 'stop' | 'started' | 'stopped';
  daemon: string;
  sessionId?: string;
  epoch?: number;
  reason?: string;
  at: number;
}

const reports: Report[] = [];
const killedAt = new Map<string, number>();

function spawnDaemon(id: string): ChildProcess {
  const env = { DAEMON_ID: id, SESSIONS: SESSIONS.join(','), LEASE_MS: String(LEASE_MS) };
  return cluster.spawn<Report>(BALANCER_CHILD, keys.prefix, env, (report) => reports.push(report), 'inherit');
}

/** Who runs each session now: a SIGKILLed daemon's sessions run until its leases could have run out. */
function owners(): Map<string, string> {
  const running = new Map<string, string>();
  for (const r of reports) {
    if (r.event === 'start' && r.sessionId) running.set(r.sessionId, r.daemon);
    if (r.event === 'stop' && r.sessionId && running.get(r.sessionId) === r.daemon) running.delete(r.sessionId);
  }
  for (const [session, daemon] of running) if (killedAt.has(daemon)) running.delete(session);
  return running;
}

function counts(): Record<string, number> {
  const result: Record<string, number> = {};
  for (const daemon of owners().values()) result[daemon] = (result[daemon] ?? 0) + 1;
  return result;
}

/** Sessions started while another daemon still ran them (a killed daemon ran its sessions until it died). */
function overlaps(): string[] {
  const problems: string[] = [];
  const running = new Map<string, Report>();
  for (const r of [...reports].sort((a, b) => a.at - b.at)) {
    if (!r.sessionId) continue;
    const current = running.get(r.sessionId);
    if (r.event === 'start') {
      if (current) {
        const death = killedAt.get(current.daemon);
        // A killed owner ran its sessions until it died: WhatsApp sees its socket close with it.
        if (death === undefined || death > r.at) problems.push(`${r.sessionId} started on ${r.daemon} while ${current.daemon} ran it`);
      }
      running.set(r.sessionId, r);
    } else if (current?.daemon === r.daemon) {
      running.delete(r.sessionId);
    }
  }
  return problems;
}

describe('session takeover between daemon processes', { timeout: 120_000 }, () => {
  it('divides twelve sessions among three processes, survives a SIGKILL within the lease time, and hands over on SIGTERM at once', async () => {
    const a = spawnDaemon('a');
    await until(() => reports.some((r) => r.daemon === 'a' && r.event === 'started'), 'daemon a to start', 60_000);
    const b = spawnDaemon('b');
    const c = spawnDaemon('c');
    await until(() => sortedCounts() === '4,4,4', 'a 4/4/4 split', 60_000);
    expect(Object.keys(counts()).sort()).toEqual(['a', 'b', 'c']);

    const victimSessions = [...owners()].filter(([, d]) => d === 'c').map(([s]) => s);
    const killed = Date.now();
    c.kill('SIGKILL');
    await exited(c);
    killedAt.set('c', Date.now());
    await until(() => sortedCounts() === '6,6', 'the survivors to take the killed daemon\'s sessions', 30_000);
    const takeoverMs = Date.now() - killed;
    // The bound is the lease: its last renew was before the kill, and the survivors wake when it
    // runs out rather than at their next tick. The margin is the acquire and start on a loaded machine.
    expect(takeoverMs).toBeLessThan(LEASE_MS + ACQUIRE_MARGIN_MS);
    const firstTakeover = Math.min(...reports.filter((r) => r.event === 'start' && victimSessions.includes(r.sessionId ?? '') && r.at >= killed).map((r) => r.at));
    // Nobody took a session of the killed daemon before its lease could run out.
    expect(firstTakeover - killed).toBeGreaterThanOrEqual(LEASE_MS - TICK_MS - 200);

    const handoverStart = Date.now();
    b.kill('SIGTERM');
    await exited(b);
    expect(b.exitCode).toBe(0);
    await until(() => sortedCounts() === '12', 'a to take everything', 30_000);
    // Without waiting for b's leases to run out: b released them.
    expect(Date.now() - handoverStart).toBeLessThan(LEASE_MS);
    expect(Object.keys(counts())).toEqual(['a']);
    expect(overlaps()).toEqual([]);
    a.kill('SIGTERM');
    await exited(a);
  });
});

function sortedCounts(): string {
  return Object.values(counts())
    .sort((x, y) => x - y)
    .join(',');
}
