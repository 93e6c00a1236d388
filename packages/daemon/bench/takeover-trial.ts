/**
 * The takeover of `pnpm bench:cluster`: how long after a SIGKILL of a process that owns
 * sessions the survivors run every one of them.
 *
 * - `daemonTakeover`: three real daemons in cluster mode (`scripts/sim-daemon.ts`: real
 *   Baileys, against the loopback emulator) over one Redis share six sessions, linked once
 *   (each its own emulated phone scans the QR); the owner of the most sessions is SIGKILLed,
 *   and the time runs until every session it ran is CONNECTED at a survivor, as the
 *   survivors' `/readyz?verbose` shows it (`checks.cluster.owned` and the session's state):
 *   lease time + reconnect. The killed daemon is started again before the next run (it
 *   takes its share back, without a QR), so one link serves every run.
 * - `balancerTakeover`: three child processes of the session balancer alone over session
 *   leases (`scripts/support/balancer-child.ts`, what test/cluster-takeover.test.ts runs),
 *   twelve sessions, one SIGKILLed; "runs" is the balancer's `startSession`: the lease part alone.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { scanQrCodes, startEmulator, type Emulator } from '../../../scripts/dev-sim.js';
import { BALANCER_CHILD, spawnJsonLinesChild } from '../../../scripts/support/cluster-children.js';
import { freePort } from '../../../scripts/support/free-port.js';
import { baseEnv, exited, killAll, repoRoot, spawnSimDaemon, until } from '../../../scripts/support/process-stack.js';

/** What one takeover took, from the SIGKILL (ms). */
export interface TakeoverSample {
  /** Until the first of the killed process's sessions ran on a survivor. */
  firstMs: number;
  /** Until the survivors ran every session (real daemons: every moved session CONNECTED there). */
  allMs: number;
  /** Real daemons only: until the survivors held every moved session's lease (the lease part, before the reconnect). */
  takenMs?: number;
  /** Sessions the killed process ran. */
  moved: number;
}

/** A way to measure a takeover; `pnpm bench:cluster` runs it several times. */
export interface TakeoverTrial {
  /** What is started and killed, and what "taken" means, for the printed table. */
  readonly description: string;
  /** One takeover: owners over Redis at `redisUrl` (keys under `prefix`; a trial may keep its first run's owners and ignore both), SIGKILL one, time it. */
  run(redisUrl: string, prefix: string): Promise<TakeoverSample>;
  /** Stops what the trial keeps between runs (its daemons and emulator); absent when every run cleans up after itself. */
  close?(): Promise<void>;
}

/**
 * Waits a random part of a renew period (a third of the lease) before a kill: the victim has
 * just taken its sessions when a run's split is reached, and a crash comes at any point of
 * the renew cycle, so its leases then run out anywhere between ⅔ and all of a lease after it.
 */
function randomPhase(leaseMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * (leaseMs / 3)));
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
    `${names.length} session-balancer processes share ${sessions.length} sessions through leases of ${options.leaseMs / 1000} s, one SIGKILLed at a random point of its renew period; ` +
    "taken = a survivor's balancer started the session (the lease part alone, no WhatsApp socket)";
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
      await randomPhase(options.leaseMs);
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

/** Options of {@link daemonTakeover}. */
export interface DaemonTakeoverOptions {
  /** Lease time (ms): `STICKERBOT_LEASE_MS`. */
  leaseMs: number;
  /** Sessions divided among the daemons (default 6). */
  sessions?: number;
  /** Daemons (default 3; one is killed per run). */
  daemons?: number;
  /** Where the daemons' last output lines go when a run fails. */
  say?: (line: string) => void;
}

/** What `/readyz?verbose` tells the trial (cluster mode). */
interface Verbose {
  checks: { cluster?: { owned: string[] } };
  sessions: Array<{ id: string; status: string }>;
}

interface Member {
  name: string;
  child: ChildProcess;
  port: number;
  output: string[];
}

/** Three real daemons in cluster mode against the emulator; see the module comment. */
export function daemonTakeover(options: DaemonTakeoverOptions): TakeoverTrial {
  const ids = Array.from({ length: options.sessions ?? 6 }, (_, i) => `s${i + 1}`);
  const names = Array.from({ length: options.daemons ?? 3 }, (_, i) => String.fromCharCode(97 + i));
  const phoneOf = new Map(ids.map((id, i) => [id, `4915199${String(i + 1).padStart(6, '0')}`]));
  const token = randomBytes(24).toString('hex');
  const description =
    `${names.length} daemons in cluster mode (real Baileys, the emulator) share ${ids.length} linked sessions through leases of ${options.leaseMs / 1000} s; ` +
    "the owner of the most is SIGKILLed at a random point of its renew period; taken = a survivor holds the lease, up = CONNECTED at a survivor (its /readyz)";
  let stack: { dataDir: string; emulator: Emulator; redisUrl: string; members: Map<string, Member>; killed: string | undefined } | undefined;

  async function verbose(member: Member): Promise<Verbose | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${member.port}/readyz?verbose`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2_000) });
      return (await response.json()) as Verbose;
    } catch {
      return undefined;
    }
  }

  /** Per session: the daemon holding it and whether it is CONNECTED there, over the running daemons. */
  async function survey(): Promise<Map<string, { daemon: string; connected: boolean }>> {
    const running = [...(stack?.members.values() ?? [])].filter((m) => m.child.exitCode === null && m.child.signalCode === null);
    const views = await Promise.all(running.map(async (m) => [m.name, await verbose(m)] as const));
    const where = new Map<string, { daemon: string; connected: boolean }>();
    for (const [daemon, view] of views) {
      for (const id of view?.checks.cluster?.owned ?? []) where.set(id, { daemon, connected: view?.sessions.find((s) => s.id === id)?.status === 'CONNECTED' });
    }
    return where;
  }

  /** {@link until}, printing each daemon's last lines when it times out. */
  async function poll(check: () => Promise<boolean>, what: string, timeoutMs: number, everyMs: number): Promise<void> {
    await until(check, what, timeoutMs, everyMs).catch((err: unknown) => {
      for (const m of stack?.members.values() ?? []) for (const line of m.output.slice(-15)) options.say?.(`${m.name}: ${line}`);
      throw err;
    });
  }

  async function startMember(name: string): Promise<Member> {
    if (!stack) throw new Error('no stack');
    const port = await freePort();
    const dir = join(stack.dataDir, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const child = spawnSimDaemon(stack.emulator, dir, 'warn', port, {
      STICKERBOT_SESSIONS: ids.join(','),
      STICKERBOT_REDIS_URL: stack.redisUrl,
      STICKERBOT_DAEMON_ID: name,
      STICKERBOT_LEASE_MS: String(options.leaseMs),
      STICKERBOT_TOKEN: token,
      STICKERBOT_QR_TERMINAL: 'never',
    });
    const member: Member = { name, child, port, output: [] };
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        member.output.push(...chunk.split('\n').filter((line) => line.trim() !== ''));
        if (member.output.length > 100) member.output.splice(0, member.output.length - 100);
      });
    }
    stack.members.set(name, member);
    await poll(async () => (await verbose(member)) !== undefined, `daemon ${name} to listen`, 60_000, 200);
    return member;
  }

  /** Every session CONNECTED and each running daemon holding at least its floor share. */
  async function settled(): Promise<boolean> {
    const where = await survey();
    const running = [...(stack?.members.values() ?? [])].filter((m) => m.child.exitCode === null).map((m) => m.name);
    const fair = Math.floor(ids.length / running.length);
    const count = (name: string) => [...where.values()].filter((w) => w.daemon === name).length;
    return ids.every((id) => where.get(id)?.connected === true) && running.every((name) => count(name) >= fair);
  }

  async function setUp(redisUrl: string): Promise<void> {
    const dataDir = mkdtempSync(join(tmpdir(), 'stickerbot-bench-takeover-'));
    const emulator = await startEmulator(repoRoot, dataDir, baseEnv());
    stack = { dataDir, emulator, redisUrl, members: new Map(), killed: undefined };
    const scanned = new Set<string>();
    const dashboards: Socket[] = [];
    try {
      for (const name of names) {
        const member = await startMember(name);
        // One dashboard per daemon: each session is its own account, scanned by its own phone.
        const phones = Object.fromEntries(ids.map((id) => [id, phoneOf.get(id) ?? '']));
        dashboards.push(scanQrCodes({ bridgeUrl: `http://127.0.0.1:${member.port}`, token, adminUrl: emulator.adminUrl, phones, say: () => undefined, scanned }));
      }
      await poll(settled, 'every session linked, CONNECTED and fairly divided', 240_000, 250);
    } finally {
      for (const dashboard of dashboards) dashboard.close();
    }
  }

  const run = async (redisUrl: string): Promise<TakeoverSample> => {
    if (!stack) await setUp(redisUrl);
    else if (stack.killed !== undefined) {
      // The daemon killed last run comes back and takes its share back, from Redis' auth state.
      await startMember(stack.killed);
      stack.killed = undefined;
      await poll(settled, 'the restarted daemon to take its share back', 120_000, 250);
    }
    if (!stack) throw new Error('no stack');
    const before = await survey();
    const counts = names.map((name) => [name, [...before.values()].filter((w) => w.daemon === name).length] as const);
    const victim = [...counts].sort((x, y) => y[1] - x[1])[0]?.[0] ?? names[0];
    const moved = ids.filter((id) => before.get(id)?.daemon === victim);
    const member = stack.members.get(victim ?? '') as Member;
    await randomPhase(options.leaseMs);
    const killedAt = Date.now();
    member.child.kill('SIGKILL');
    await exited(member.child);
    stack.killed = victim;
    let firstMs: number | undefined;
    let takenMs: number | undefined;
    await poll(
      async () => {
        const where = await survey();
        const at = Date.now() - killedAt;
        const survivors = moved.map((id) => where.get(id)).filter((w) => w !== undefined && w.daemon !== victim);
        if (takenMs === undefined && survivors.length === moved.length) takenMs = at;
        if (firstMs === undefined && survivors.some((w) => w?.connected)) firstMs = at;
        return survivors.length === moved.length && survivors.every((w) => w?.connected);
      },
      "every moved session CONNECTED at a survivor",
      5 * options.leaseMs + 60_000,
      100,
    );
    const allMs = Date.now() - killedAt;
    return { firstMs: firstMs ?? allMs, allMs, takenMs: takenMs ?? allMs, moved: moved.length };
  };

  return {
    description,
    run,
    async close() {
      if (!stack) return;
      await killAll([...[...stack.members.values()].map((m) => m.child), stack.emulator.child]);
      rmSync(stack.dataDir, { recursive: true, force: true });
      stack = undefined;
    },
  };
}
