/**
 * The takeover of `pnpm bench:cluster`: how long after a SIGKILL of a process that owns
 * sessions the survivors run every one of them.
 *
 * Today's trial (`balancerTakeover`) runs three real child processes of the session balancer
 * over session leases (`scripts/support/balancer-child.ts`, what test/cluster-takeover.test.ts
 * runs), twelve sessions, and SIGKILLs one; "runs" is the balancer's `startSession`. When the
 * daemon's cluster mode is wired, a trial with three real daemons against the emulator swaps
 * in here (same {@link TakeoverTrial} shape): then `allMs` runs until the emulator sees every
 * moved session logged in again (lease time + reconnect).
 */
import type { ChildProcess } from 'node:child_process';
import { BALANCER_CHILD, spawnJsonLinesChild } from '../../../scripts/support/cluster-children.js';
import { exited, killAll, until } from '../../../scripts/support/process-stack.js';

/** What one takeover took, from the SIGKILL (ms). */
export interface TakeoverSample {
  /** Until the first of the killed process's sessions ran on a survivor. */
  firstMs: number;
  /** Until the survivors ran every session. */
  allMs: number;
  /** Sessions the killed process ran. */
  moved: number;
}

/** A way to measure a takeover; `pnpm bench:cluster` runs it several times. */
export interface TakeoverTrial {
  /** What is started and killed, and what "taken" means, for the printed table. */
  readonly description: string;
  /** One takeover: start owners over Redis at `redisUrl` (keys under `prefix`), SIGKILL one, time it. */
  run(redisUrl: string, prefix: string): Promise<TakeoverSample>;
}

/** Options of {@link balancerTakeover}. */
export interface BalancerTakeoverOptions {
  /** Lease time (ms): the daemon's `STICKERBOT_LEASE_MS`, default 30,000. */
  leaseMs: number;
  /** Sessions divided among the processes (default 12). */
  sessions?: number;
  /** Processes (default 3; one is killed). */
  processes?: number;
}

interface Report {
  event: 'start' | 'stop' | 'started' | 'stopped';
  daemon: string;
  sessionId?: string;
  at: number;
}

/** Three balancer processes share the sessions; one is SIGKILLed; see the module comment. */
export function balancerTakeover(options: BalancerTakeoverOptions): TakeoverTrial {
  const sessions = Array.from({ length: options.sessions ?? 12 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
  const names = Array.from({ length: options.processes ?? 3 }, (_, i) => String.fromCharCode(97 + i));
  const description =
    `${names.length} session-balancer processes share ${sessions.length} sessions through leases of ${options.leaseMs / 1000} s, one SIGKILLed; ` +
    "taken = a survivor's balancer started the session (the daemon's reconnect not included yet)";
  const run = async (redisUrl: string, prefix: string): Promise<TakeoverSample> => {
    const reports: Report[] = [];
    const running = new Map<string, string>();
    const onReport = (r: Report) => {
      reports.push(r);
      if (r.event === 'start' && r.sessionId) running.set(r.sessionId, r.daemon);
      if (r.event === 'stop' && r.sessionId && running.get(r.sessionId) === r.daemon) running.delete(r.sessionId);
    };
    const children = new Map<string, ChildProcess>();
    try {
      for (const name of names) {
        const env = { DAEMON_ID: name, SESSIONS: sessions.join(','), LEASE_MS: String(options.leaseMs) };
        children.set(name, spawnJsonLinesChild<Report>(BALANCER_CHILD, { url: redisUrl, prefix }, env, onReport, 'inherit'));
      }
      const fair = Math.floor(sessions.length / names.length);
      const count = (name: string) => [...running.values()].filter((d) => d === name).length;
      // A fair split first (the balancer moves sessions only at its ticks: a few lease thirds).
      await until(() => running.size === sessions.length && names.every((name) => count(name) >= fair), 'a fair split of the sessions', 20 * options.leaseMs, 50);
      const victim = names[names.length - 1] as string;
      const victimSessions = [...running].filter(([, d]) => d === victim).map(([s]) => s);
      const child = children.get(victim) as ChildProcess;
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await exited(child);
      for (const s of victimSessions) running.delete(s);
      await until(() => running.size === sessions.length, 'the survivors to run every session', 5 * options.leaseMs, 20);
      const allMs = Date.now() - killedAt;
      const takeovers = reports.filter((r) => r.event === 'start' && r.at >= killedAt && victimSessions.includes(r.sessionId ?? ''));
      return { firstMs: Math.min(...takeovers.map((r) => r.at)) - killedAt, allMs, moved: victimSessions.length };
    } finally {
      await killAll([...children.values()]);
    }
  };
  return { description, run };
}
