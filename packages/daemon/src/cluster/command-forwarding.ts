/**
 * Commands reach the owner (issue #17): a worker or a dashboard may talk to any daemon; a
 * command for a session another daemon owns is sent to that owner, run by its executor, and
 * the owner's answer (or typed error) is returned to the caller.
 *
 * Mechanism: one Redis list per daemon (its inbox, `keys.inbox(id)`), read by one blocking
 * `BRPOP` loop on a connection of its own; requests and replies both travel as list items.
 * Chosen over the Socket.IO adapter's `serverSideEmit` with an acknowledgement, which goes to
 * every daemon and waits for all of them (one slow daemon delays every forward, a dead one
 * fails them), and over pub/sub, which drops what arrives while a subscriber reconnects. A
 * list is addressed to one daemon, survives a reconnect, and expires when nobody reads it.
 *
 * The invariants:
 * - **At most once at the owner.** A request is pushed together with a claim key (MULTI). The
 *   owner runs a request only if its `DEL` of the claim returns 1; a requester that waited
 *   `acceptTimeoutMs` without an answer deletes the claim itself, and only if that `DEL`
 *   returns 1 does it answer that the owner did not take the command. One `DEL` wins, so a
 *   request is either run once or known not to have run. At the owner the command goes
 *   through its executor with the cluster's Redis command log, so a repeated id (the caller's
 *   retry at any daemon) is answered from the log or refused with `IDEMPOTENCY_CONFLICT`.
 * - **Bounded waits.** Not taken within `acceptTimeoutMs` (the owner died, or is stuck):
 *   `SESSION_NOT_CONNECTED`, retryable, and certainly not run. Taken but not answered within
 *   `replyTimeoutMs` (longer than any command's own deadline): `TIMEOUT`, retryable; the
 *   command may have run, so the retry must carry the same id. No owner at all (a failover in
 *   progress): `SESSION_NOT_CONNECTED`, retryable, at once.
 * - **No leak.** Each pending request lives in memory until its reply or its reply timeout,
 *   whichever is first, and `close()` answers all of them; claim keys expire with the reply
 *   timeout, and an inbox nobody reads (its daemon died) expires as well, with what it held.
 *
 * The request names a command table ("worker", "dashboard") and carries the validated
 * arguments and the caller's context in JSON (`BufferJSON`: media stay bytes); the owner
 * parses both again with the table's schemas, as for any payload that enters the daemon.
 */
import { StickerbotError, fail, parsePayload, resultSchema, type DashboardCommandName, type Result, type WorkerCommandName } from '@stickerbot/protocol';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CommandExecutor, CommandRoute, CommandSpec } from '../bridge/command-executor.js';
import { parseWithBuffers, stringifyWithBuffers } from '../storage/index.js';
import { ClusterError } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * Where a command runs in a cluster: `owner`, at the session's owner (none: a retryable
 * error); `owner-or-local`, at the owner if there is one, else here; `local`, here.
 */
export type ForwardPolicy = 'owner' | 'owner-or-local' | 'local';

/** Worker commands: what acts on a session's WhatsApp connection runs where that connection is. */
export const WORKER_FORWARDING: Readonly<Record<WorkerCommandName, ForwardPolicy>> = {
  'message:send': 'owner',
  'media:download': 'owner',
  'message:read': 'owner',
  'presence:send': 'owner',
  'contact:lookup': 'owner',
  'group:metadata': 'owner',
  'session:list': 'local',
  'daemon:status': 'local',
};

/**
 * Dashboard commands: a session's subscription and its controls go to its owner, which has its
 * QR and its socket; a session nobody owns (stopped) is handled here. Creating a session and
 * leaving a room are this daemon's business.
 */
export const DASHBOARD_FORWARDING: Readonly<Record<DashboardCommandName, ForwardPolicy>> = {
  'session:subscribe': 'owner-or-local',
  'session:start': 'owner-or-local',
  'session:stop': 'owner-or-local',
  'session:logout': 'owner-or-local',
  'session:pair': 'owner-or-local',
  'session:create': 'local',
  'session:unsubscribe': 'local',
};

/** Default wait for the owner to take a forwarded command (ms). */
export const DEFAULT_ACCEPT_TIMEOUT_MS = 5_000;
/** Default wait for the owner's answer (ms): beyond the longest command deadline (a media download's 60 s). */
export const DEFAULT_REPLY_TIMEOUT_MS = 90_000;

/** Where each command of a table runs, by the table's name. */
const POLICIES: Readonly<Record<ForwardedTableName, Readonly<Record<string, ForwardPolicy>>>> = {
  worker: WORKER_FORWARDING,
  dashboard: DASHBOARD_FORWARDING,
};

/** The command tables that can be forwarded. */
export type ForwardedTableName = 'worker' | 'dashboard';

/** A command table the owner serves to forwarded requests, with how its caller's context crosses Redis. */
export interface ForwardedTable<C> {
  /** The table's name in a request; its ops run where {@link WORKER_FORWARDING} or {@link DASHBOARD_FORWARDING} say. */
  name: ForwardedTableName;
  commands: { readonly [op: string]: CommandSpec<z.ZodType, z.ZodType, C> };
  executor: CommandExecutor;
  /** The caller's context as JSON, sent with the request. */
  encodeContext(context: C): unknown;
  /** The context at the owner; throws (an `INVALID_ARGS` answer) when it does not parse. */
  decodeContext(encoded: unknown): C;
}

/** Options of {@link createCommandForwarding}. */
export interface CommandForwardingOptions {
  /** For pushes; the blocking loop reads on a duplicate of it. */
  redis: Redis;
  keys: RedisKeys;
  /** This daemon's id: the `owner` its session leases carry, and the name of its inbox. */
  daemonId: string;
  /** The daemon id holding the session's lease, or `undefined` when nobody does. */
  ownerOf(sessionId: string): Promise<string | undefined>;
  /** Whether this daemon holds the session's lease now. */
  owns(sessionId: string): boolean;
  logger: Logger;
  acceptTimeoutMs?: number;
  replyTimeoutMs?: number;
}

/** Command forwarding of one daemon. */
export interface CommandForwarding {
  /** The command executor's route: `undefined` for what runs here. */
  readonly route: CommandRoute;
  /** Serves a table's commands to requests from other daemons (and routes its ops by its policy). */
  serve<C>(table: ForwardedTable<C>): void;
  /** Starts reading this daemon's inbox. */
  start(): void;
  /** Stops reading, answers every pending forward with `SHUTTING_DOWN`, waits (bounded) for the requests being served. */
  close(timeoutMs?: number): Promise<void>;
  /** Forwards waiting for their owner's answer. */
  readonly pending: number;
}

const requestSchema = z.object({
  kind: z.literal('request'),
  rid: z.string().min(1),
  from: z.string().min(1),
  table: z.string(),
  op: z.string(),
  args: z.unknown(),
  context: z.unknown(),
});
const replySchema = z.object({ kind: z.literal('reply'), rid: z.string().min(1), result: z.unknown() });
const messageSchema = z.discriminatedUnion('kind', [requestSchema, replySchema]);
type ForwardRequest = z.infer<typeof requestSchema>;

const answerSchema = resultSchema(z.unknown());

function sessionIdOf(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null || !('sessionId' in args)) return undefined;
  return typeof args.sessionId === 'string' ? args.sessionId : undefined;
}

function unavailable(message: string): Result<never> {
  return fail(new StickerbotError('SESSION_NOT_CONNECTED', message, { retryable: true }));
}

/** Creates the command forwarding of one daemon; see the module comment for what it guarantees. */
export function createCommandForwarding(options: CommandForwardingOptions): CommandForwarding {
  const { redis, keys, daemonId } = options;
  const acceptTimeoutMs = options.acceptTimeoutMs ?? DEFAULT_ACCEPT_TIMEOUT_MS;
  const replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  if (!(acceptTimeoutMs > 0) || !(replyTimeoutMs > acceptTimeoutMs)) {
    throw new ClusterError('CLUSTER_CONFIG', `bad forwarding timeouts: accept ${acceptTimeoutMs} ms must be positive and below reply ${replyTimeoutMs} ms`);
  }
  const log = options.logger.child({ module: 'command-forwarding' });
  const tables = new Map<ForwardedTableName, ForwardedTable<unknown>>();
  const byOp = new Map<string, ForwardedTable<unknown>>();
  const pending = new Map<string, (result: Result<unknown>) => void>();
  const serving = new Set<Promise<void>>();
  let reader: Redis | undefined;
  let closed = false;

  async function push(to: string, message: object, claim?: string): Promise<void> {
    const inbox = keys.inbox(to);
    const multi = redis.multi();
    if (claim !== undefined) multi.set(claim, daemonId, 'PX', replyTimeoutMs);
    multi.lpush(inbox, stringifyWithBuffers(message)).pexpire(inbox, replyTimeoutMs);
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error !== null)?.[0];
    if (replies === null || failed) throw failed ?? new Error('the transaction was discarded');
  }

  function forward(owner: string, table: ForwardedTable<unknown>, op: string, args: unknown, context: unknown): Promise<Result<unknown>> {
    const rid = randomUUID();
    const claim = keys.forwardClaim(rid);
    return new Promise<Result<unknown>>((resolve) => {
      const settle = (result: Result<unknown>): void => {
        if (!pending.delete(rid)) return;
        clearTimeout(acceptTimer);
        clearTimeout(replyTimer);
        resolve(result);
      };
      pending.set(rid, settle);
      const acceptTimer = setTimeout(() => {
        redis.del(claim).then(
          (deleted) => {
            if (deleted === 1) settle(unavailable(`daemon ${owner}, which owns the session, did not take ${op} within ${acceptTimeoutMs} ms; it was not run`));
          },
          // Unknown whether the owner took it: wait for its answer up to the reply timeout.
          (err: unknown) => log.warn({ err, op, owner }, 'could not withdraw a forwarded command'),
        );
      }, acceptTimeoutMs);
      const replyTimer = setTimeout(() => {
        settle(fail(new StickerbotError('TIMEOUT', `daemon ${owner} took ${op} but did not answer within ${replyTimeoutMs} ms; retry with the same id for its outcome`, { retryable: true })));
      }, replyTimeoutMs);
      const request: ForwardRequest = { kind: 'request', rid, from: daemonId, table: table.name, op, args, context: table.encodeContext(context) };
      push(owner, request, claim).then(
        () => log.debug({ op, owner, rid }, 'command forwarded'),
        (err: unknown) => {
          log.warn({ err, op, owner }, 'could not forward a command');
          settle(unavailable(`could not reach daemon ${owner}, which owns the session, through Redis`));
        },
      );
    });
  }

  const route: CommandRoute = (op, args, context) => {
    const table = byOp.get(op);
    const policy = (table && POLICIES[table.name][op]) ?? 'local';
    const sessionId = sessionIdOf(args);
    if (table === undefined || policy === 'local' || sessionId === undefined || options.owns(sessionId)) return undefined;
    if (closed) return Promise.resolve(fail(new StickerbotError('SHUTTING_DOWN')));
    return (async () => {
      let owner: string | undefined;
      try {
        owner = await options.ownerOf(sessionId);
      } catch (err) {
        log.warn({ err, op, sessionId }, 'could not read the owner of a session');
        return unavailable(`could not find which daemon owns session ${sessionId}`);
      }
      // Our own id on the lease while owns() says no: the lease is running out here; nobody serves it.
      if (owner === undefined || owner === daemonId) {
        return policy === 'owner-or-local' ? undefined : unavailable(`no daemon owns session ${sessionId} right now (it is moving between daemons); retry`);
      }
      return forward(owner, table, op, args, context);
    })();
  };

  async function answer(request: ForwardRequest, result: Result<unknown>): Promise<void> {
    try {
      await push(request.from, { kind: 'reply', rid: request.rid, result });
    } catch (err) {
      log.warn({ err, op: request.op, to: request.from }, 'could not answer a forwarded command; its caller times out');
    }
  }

  async function run(request: ForwardRequest): Promise<Result<unknown>> {
    const table = tables.get(request.table as ForwardedTableName);
    const spec = table?.commands[request.op];
    if (table === undefined || spec === undefined) return fail(new StickerbotError('INVALID_ARGS', `unknown forwarded command ${request.table}/${request.op}`));
    let args: unknown;
    let context: unknown;
    try {
      args = parsePayload(spec.args, request.args, spec.op);
      context = table.decodeContext(request.context);
    } catch (thrown) {
      return table.executor.refuse(spec.op, thrown);
    }
    const sessionId = sessionIdOf(args);
    if (sessionId !== undefined && POLICIES[table.name][spec.op] === 'owner' && !options.owns(sessionId)) {
      return unavailable(`session ${sessionId} moved away from daemon ${daemonId}; retry`);
    }
    return table.executor.execute(spec, args, context);
  }

  async function serve(request: ForwardRequest): Promise<void> {
    let taken: number;
    try {
      taken = await redis.del(keys.forwardClaim(request.rid));
    } catch (err) {
      log.warn({ err, op: request.op, from: request.from }, 'could not take a forwarded command; its caller withdraws it');
      return;
    }
    if (taken !== 1) {
      log.debug({ op: request.op, from: request.from }, 'a forwarded command was withdrawn before it was taken');
      return;
    }
    await answer(request, await run(request));
  }

  function receive(text: string): void {
    let message: z.infer<typeof messageSchema>;
    try {
      message = messageSchema.parse(parseWithBuffers(text));
    } catch (err) {
      log.warn({ err }, 'malformed inbox item ignored');
      return;
    }
    if (message.kind === 'reply') {
      const parsed = answerSchema.safeParse(message.result);
      const result = parsed.success ? (parsed.data as Result<unknown>) : fail(new StickerbotError('INTERNAL', 'the owner answered a malformed result'));
      pending.get(message.rid)?.(result);
      return;
    }
    const served = serve(message).catch((err: unknown) => log.error({ err, op: message.op }, 'serving a forwarded command failed'));
    serving.add(served);
    void served.finally(() => serving.delete(served));
  }

  async function readLoop(client: Redis): Promise<void> {
    const inbox = keys.inbox(daemonId);
    while (!closed) {
      try {
        // Short blocks, so that a close is noticed soon even if the disconnect races the call.
        const popped = await client.brpop(inbox, 1);
        if (popped) receive(popped[1]);
      } catch (err) {
        if (closed) return;
        log.warn({ err }, 'reading the command inbox failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  return {
    route,
    serve<C>(table: ForwardedTable<C>) {
      const general = table as unknown as ForwardedTable<unknown>;
      if (tables.has(table.name)) throw new ClusterError('CLUSTER_CONFIG', `the command table ${table.name} is served already`);
      for (const op of Object.keys(table.commands)) {
        if (byOp.has(op)) throw new ClusterError('CLUSTER_CONFIG', `command ${op} is in two forwarded tables`);
      }
      tables.set(table.name, general);
      for (const op of Object.keys(table.commands)) byOp.set(op, general);
    },
    start() {
      if (reader !== undefined || closed) return;
      // A blocking BRPOP holds its connection: the reader has one of its own, without the
      // shared command timeout (a block is not a hang).
      reader = redis.duplicate({ commandTimeout: undefined });
      reader.on('error', () => undefined);
      void readLoop(reader);
    },
    async close(timeoutMs = 2_000) {
      if (closed) return;
      closed = true;
      reader?.disconnect();
      for (const settle of [...pending.values()]) settle(fail(new StickerbotError('SHUTTING_DOWN', 'this daemon is stopping; retry at another')));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...serving]), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    },
    get pending() {
      return pending.size;
    },
  };
}

