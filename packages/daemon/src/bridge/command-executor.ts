/**
 * The one place commands run (DESIGN §3 Commands), and the one owner of idempotency. It
 * takes arguments the command binding validated, then: the same id already in flight
 * shares that promise → a recorded outcome for the id is returned without acting again →
 * otherwise run and record the outcome (with the hash of its arguments) → metrics → wire
 * error at the edge. A repeated id whose op or arguments differ from its first use is
 * refused with `IDEMPOTENCY_CONFLICT`: in flight, recorded, or a send still queued in the
 * outbox (from this run of the daemon or an earlier one). The arguments are hashed here,
 * once; a send carries its hash into the outbox.
 *
 * In cluster mode two things join (both optional, absent on one host): the log is shared by
 * the daemons in Redis and answers with promises; before running a recorded command the
 * executor claims its id there, so that two daemons cannot both run it
 * (cluster/redis-command-log.ts). And a {@link CommandRoute} sends a command for a session
 * another daemon owns to that owner, whose executor then owns its idempotency
 * (cluster/command-forwarding.ts).
 */
import { fail, ok, StickerbotError, type Result, type WireError } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { commandArgsHash, idempotencyConflict } from './command-args-hash.js';
import type { CommandRecord, OutboxStore, SharedCommandLog } from '../storage/index.js';

/**
 * One command: its schemas, whether its outcome is recorded under its id, and what it
 * does. Typed by its schemas, so that a spec built from the protocol's table needs no cast.
 */
export interface CommandSpec<AS extends z.ZodType, RS extends z.ZodType = z.ZodType, C = void> {
  /** The wire name, e.g. `message:send`. */
  op: string;
  /** Schema of the arguments (the protocol's); the command binding parses with it. */
  args: AS;
  /** Schema of the success value; a handler that returns something else is an `INTERNAL` bug, not a wire surprise. */
  result?: RS;
  /**
   * Whether the outcome is recorded under the command id, so that a repeated id (also
   * after a daemon restart) returns it instead of acting again. On for commands with a
   * side effect on WhatsApp; off for reads, which are safe to repeat (and whose results,
   * such as downloaded media, do not belong in a log).
   */
  record: boolean;
  /**
   * Does the work. `argsHash` is the executor's hash of `args` (a send keeps it with its
   * queued item, so that the outcome the queue records carries it).
   */
  run(args: z.output<AS>, context: C, argsHash: string): Promise<z.output<RS>> | z.output<RS>;
}

/** What the executor reports for each command. */
export interface CommandMetricsSink {
  /** `outcome` is `ok`, `replayed` (answered from the log or an in-flight twin) or an error code. */
  observeCommand(op: string, outcome: string, seconds: number): void;
}

/**
 * Decides where a command runs (cluster mode): `undefined` to run it here; otherwise the
 * answer of the daemon that runs it, or a promise of `undefined` when it turned out to be
 * this one's after all. Called with the validated arguments, before any idempotency check.
 */
export type CommandRoute = (op: string, args: unknown, context: unknown) => Promise<Result<unknown> | undefined> | undefined;

/** Collaborators of {@link createCommandExecutor}. */
export interface CommandExecutorDeps {
  /** The SQLite `CommandLog`, or in cluster mode the log the daemons share in Redis. */
  commandLog: SharedCommandLog;
  /** Sends still queued, which a repeated id must match too (absent: no outbox, as in bridge tests). */
  outbox?: Pick<OutboxStore, 'find'>;
  logger: Logger;
  metrics?: CommandMetricsSink;
  now?: () => number;
  /** Cluster mode: forwards a command for a session owned elsewhere (absent: everything runs here). */
  route?: CommandRoute;
}

/** Runs commands; see the module comment for the order of checks. */
export interface CommandExecutor {
  /** Runs a command on arguments its schema validated; never throws, always answers a {@link Result}. */
  execute<AS extends z.ZodType, RS extends z.ZodType, C>(spec: CommandSpec<AS, RS, C>, args: z.output<AS>, context: C): Promise<Result<z.output<RS>>>;
  /**
   * Answers a command refused before it could run (its arguments do not match its schema):
   * logged and observed like any other outcome; `SHUTTING_DOWN` while closing, as every command then.
   */
  refuse(op: string, thrown: unknown): { ok: false; error: WireError };
  /** Stops taking commands (they get `SHUTTING_DOWN`) and waits up to `timeoutMs` for those in flight. */
  close(timeoutMs: number): Promise<void>;
  /** Commands running now. */
  readonly inFlight: number;
  /** Whether {@link close} was called. */
  readonly closing: boolean;
}

interface Running {
  op: string;
  argsHash: string;
  promise: Promise<Result<unknown>>;
}

/** A command's answer and what the metrics call its outcome. */
interface Settled {
  result: Result<unknown>;
  outcome: string;
}

function commandId(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null || !('id' in args)) return undefined;
  return typeof args.id === 'string' ? args.id : undefined;
}

function sessionIdOf(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null || !('sessionId' in args)) return undefined;
  return typeof args.sessionId === 'string' ? args.sessionId : undefined;
}

/** Creates the command executor. */
export function createCommandExecutor(deps: CommandExecutorDeps): CommandExecutor {
  const log = deps.logger;
  const now = deps.now ?? Date.now;
  const running = new Map<string, Running>();
  const anonymous = new Set<Promise<unknown>>();
  let closing = false;

  function observe(op: string, outcome: string, startedAt: number): void {
    deps.metrics?.observeCommand(op, outcome, (performance.now() - startedAt) / 1000);
  }

  function outcomeOf(result: Result<unknown>): string {
    return result.ok ? 'ok' : result.error.code;
  }

  function refuseRepeat(op: string, id: string, error: StickerbotError, startedAt: number): Result<never> {
    log.warn({ op, id, code: error.code, reason: error.message }, 'repeated command id refused');
    observe(op, error.code, startedAt);
    return fail(error);
  }

  async function perform<AS extends z.ZodType, RS extends z.ZodType, C>(
    spec: CommandSpec<AS, RS, C>,
    args: z.output<AS>,
    context: C,
    argsHash: string,
    id: string | undefined,
    claimed = false,
  ): Promise<Result<z.output<RS>>> {
    let result: Result<z.output<RS>>;
    try {
      const value = await spec.run(args, context, argsHash);
      if (spec.result !== undefined) {
        const checked = spec.result.safeParse(value);
        if (!checked.success) {
          log.error({ op: spec.op, id, err: checked.error }, 'command handler returned a value that breaks the protocol');
          throw new StickerbotError('INTERNAL', `${spec.op} produced an invalid result`);
        }
        result = ok(checked.data);
      } else {
        result = ok(value);
      }
    } catch (thrown) {
      result = fail(thrown);
      if (result.error.code === 'INTERNAL') log.error({ op: spec.op, id, err: thrown }, 'command failed');
      else log.warn({ op: spec.op, id, code: result.error.code, reason: result.error.message }, 'command refused');
    }
    // A retryable failure is not recorded, so that the worker's retry with the same id can act.
    // A send the outbound queue took was recorded by the queue already, in the transaction
    // that removed it from the outbox (see outbound-queue.ts): that record stands.
    if (spec.record && id !== undefined && (result.ok || !result.error.retryable)) {
      try {
        if (!(await deps.commandLog.has(id))) await deps.commandLog.record({ id, argsHash, op: spec.op, sessionId: sessionIdOf(args), result, createdAt: now() });
      } catch (err) {
        log.error({ op: spec.op, id, err }, 'could not record the command outcome; a repeat of this id would act again');
      }
    } else if (claimed && id !== undefined) {
      // Nothing to record: the retry with this id must be free to run, here or on another daemon.
      await deps.commandLog.release?.(id).catch((err: unknown) => log.warn({ op: spec.op, id, err }, 'could not release the command claim; it expires'));
    }
    return result;
  }

  function refuse(op: string, thrown: unknown): { ok: false; error: WireError } {
    const startedAt = performance.now();
    const refused = fail(closing ? new StickerbotError('SHUTTING_DOWN') : thrown);
    if (!closing) log.warn({ op, reason: refused.error.message }, 'malformed command refused');
    observe(op, refused.error.code, startedAt);
    return refused;
  }

  async function execute<AS extends z.ZodType, RS extends z.ZodType, C>(
    spec: CommandSpec<AS, RS, C>,
    args: z.output<AS>,
    context: C,
  ): Promise<Result<z.output<RS>>> {
    type R = z.output<RS>;
    const startedAt = performance.now();
    if (closing) {
      const refused = fail(new StickerbotError('SHUTTING_DOWN'));
      observe(spec.op, refused.error.code, startedAt);
      return refused;
    }
    const routed = deps.route?.(spec.op, args, context);
    if (routed !== undefined) {
      const answer = await routed;
      if (answer !== undefined) {
        observe(spec.op, answer.ok ? 'forwarded' : answer.error.code, startedAt);
        return answer as Result<R>;
      }
    }
    const id = commandId(args);
    const argsHash = commandArgsHash(args);
    if (id === undefined) {
      const promise = perform(spec, args, context, argsHash, undefined);
      anonymous.add(promise);
      const result = await promise.finally(() => anonymous.delete(promise));
      observe(spec.op, outcomeOf(result), startedAt);
      return result;
    }

    const twin = running.get(id);
    if (twin !== undefined) {
      const conflict = idempotencyConflict(id, spec.op, argsHash, twin);
      if (conflict !== undefined) return refuseRepeat(spec.op, id, conflict, startedAt);
      const result = (await twin.promise) as Result<R>;
      observe(spec.op, 'replayed', startedAt);
      return result;
    }
    // Registered before the first await, so that a twin arriving while the log is read joins this run.
    const settled = decide(spec, args, context, argsHash, id);
    running.set(id, { op: spec.op, argsHash, promise: settled.then(({ result }) => result) });
    try {
      const { result, outcome } = await settled;
      observe(spec.op, outcome, startedAt);
      return result as Result<R>;
    } finally {
      running.delete(id);
    }
  }

  function answered(op: string, id: string, argsHash: string, recorded: CommandRecord): Settled {
    const conflict = idempotencyConflict(id, op, argsHash, recorded);
    if (conflict !== undefined) return repeatRefused(op, id, conflict);
    log.debug({ op, id }, 'repeated command id answered from the log');
    return { result: recorded.result, outcome: 'replayed' };
  }

  function repeatRefused(op: string, id: string, error: StickerbotError): Settled {
    log.warn({ op, id, code: error.code, reason: error.message }, 'repeated command id refused');
    return { result: fail(error), outcome: error.code };
  }

  /** The idempotency checks of a command with an id, then its run: see the module comment. */
  async function decide<AS extends z.ZodType, RS extends z.ZodType, C>(
    spec: CommandSpec<AS, RS, C>,
    args: z.output<AS>,
    context: C,
    argsHash: string,
    id: string,
  ): Promise<Settled> {
    let claimed = false;
    if (spec.record) {
      const { commandLog } = deps;
      try {
        const recorded = await commandLog.get(id);
        if (recorded !== undefined) return answered(spec.op, id, argsHash, recorded);
        // A send still queued (its caller gave up waiting, or the daemon restarted): the
        // same send runs on and joins it in the queue; another one is refused.
        const queued = deps.outbox?.find(id);
        const conflict = queued && idempotencyConflict(id, spec.op, argsHash, queued);
        if (conflict) return repeatRefused(spec.op, id, conflict);
        const claim = await commandLog.claim?.(id, { op: spec.op, argsHash, sessionId: sessionIdOf(args) });
        if (claim?.state === 'recorded') return answered(spec.op, id, argsHash, claim.record);
        if (claim?.state === 'running') {
          const first = idempotencyConflict(id, spec.op, argsHash, claim);
          if (first !== undefined) return repeatRefused(spec.op, id, first);
          const busy = new StickerbotError('TIMEOUT', `command id ${id} is running on daemon ${claim.holder}; retry for its outcome`, { retryable: true });
          return { result: fail(busy), outcome: busy.code };
        }
        claimed = claim?.state === 'claimed';
        if (claim?.state === 'claimed' && claim.takenFrom) {
          log.warn(
            { op: spec.op, id, holder: claim.takenFrom.holder, epoch: claim.takenFrom.epoch },
            'took over the claim of a daemon that lost the session since; a send goes out under the same WhatsApp message id, which a phone shows once',
          );
        }
      } catch (err) {
        log.error({ op: spec.op, id, err }, 'could not read the command log');
        const failed = fail(new StickerbotError('INTERNAL', 'the command log is unavailable', { retryable: true }));
        return { result: failed, outcome: failed.error.code };
      }
    }
    const result = await perform(spec, args, context, argsHash, id, claimed);
    return { result, outcome: outcomeOf(result) };
  }

  async function close(timeoutMs: number): Promise<void> {
    closing = true;
    const pending: Array<Promise<unknown>> = [...running.values()].map((entry) => entry.promise);
    pending.push(...anonymous);
    if (pending.length === 0) return;
    log.info({ inFlight: pending.length }, 'waiting for commands in flight');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([Promise.allSettled(pending).then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') log.warn({ inFlight: running.size + anonymous.size }, 'commands still in flight at shutdown');
  }

  return {
    execute,
    refuse,
    close,
    get inFlight() {
      return running.size + anonymous.size;
    },
    get closing() {
      return closing;
    },
  };
}
