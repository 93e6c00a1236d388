/**
 * The one place commands run (DESIGN §3 Commands): validate → the same id already in
 * flight shares that promise → a recorded outcome for the command id is returned without
 * acting again → otherwise run and record the outcome (with the hash of its arguments) →
 * metrics → wire error at the edge. A repeated id whose op or arguments differ from its
 * first use is refused with `IDEMPOTENCY_CONFLICT`, in flight or recorded.
 */
import { fail, ok, parsePayload, StickerbotError, type Result } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { commandArgsHash, idempotencyConflict, type ArgsHasher } from '../command-args-hash.js';
import type { CommandLog } from '../storage/stores.js';

/** One command: its schema, whether its outcome is recorded under its id, and what it does. */
export interface CommandSpec<A, R, C = void> {
  /** The wire name, e.g. `message:send`. */
  op: string;
  /** Schema of the arguments (the protocol's). */
  args: z.ZodType<A>;
  /** Schema of the success value; a handler that returns something else is an `INTERNAL` bug, not a wire surprise. */
  result?: z.ZodType<R>;
  /**
   * Whether the outcome is recorded under the command id, so that a repeated id (also
   * after a daemon restart) returns it instead of acting again. On for commands with a
   * side effect on WhatsApp; off for reads, which are safe to repeat (and whose results,
   * such as downloaded media, do not belong in a log).
   */
  record: boolean;
  run(args: A, context: C): Promise<R> | R;
}

/** What the executor reports for each command. */
export interface CommandMetricsSink {
  /** `outcome` is `ok`, `replayed` (answered from the log or an in-flight twin) or an error code. */
  observeCommand(op: string, outcome: string, seconds: number): void;
}

/** Collaborators of {@link createCommandExecutor}. */
export interface CommandExecutorDeps {
  commandLog: CommandLog;
  logger: Logger;
  metrics?: CommandMetricsSink;
  now?: () => number;
  /** Hashes validated arguments for the command log (default {@link commandArgsHash}; the daemon shares one memoised hasher with its outbound queues). */
  argsHash?: ArgsHasher;
}

/** Runs commands; see the module comment for the order of checks. */
export interface CommandExecutor {
  /** Validates `raw` with the spec's schema and runs it; never throws, always answers a {@link Result}. */
  execute<A, R, C>(spec: CommandSpec<A, R, C>, raw: unknown, context: C): Promise<Result<R>>;
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
  const hashArgs = deps.argsHash ?? commandArgsHash;
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

  function refuse(op: string, id: string, error: StickerbotError, startedAt: number): Result<never> {
    log.warn({ op, id, code: error.code, reason: error.message }, 'repeated command id refused');
    observe(op, error.code, startedAt);
    return fail(error);
  }

  async function perform<A, R, C>(
    spec: CommandSpec<A, R, C>,
    args: A,
    context: C,
    recordAs: { id: string; argsHash: string } | undefined,
  ): Promise<Result<R>> {
    const id = recordAs?.id;
    let result: Result<R>;
    try {
      const value = await spec.run(args, context);
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
    if (spec.record && recordAs !== undefined && (result.ok || !result.error.retryable)) {
      try {
        deps.commandLog.record({ ...recordAs, op: spec.op, sessionId: sessionIdOf(args), result, createdAt: now() });
      } catch (err) {
        log.error({ op: spec.op, id, err }, 'could not record the command outcome; a repeat of this id would act again');
      }
    }
    return result;
  }

  async function execute<A, R, C>(spec: CommandSpec<A, R, C>, raw: unknown, context: C): Promise<Result<R>> {
    const startedAt = performance.now();
    if (closing) {
      const refused = fail(new StickerbotError('SHUTTING_DOWN'));
      observe(spec.op, refused.error.code, startedAt);
      return refused;
    }
    let args: A;
    try {
      args = parsePayload(spec.args, raw, spec.op);
    } catch (thrown) {
      const refused = fail(thrown);
      log.warn({ op: spec.op, reason: refused.error.message }, 'malformed command refused');
      observe(spec.op, refused.error.code, startedAt);
      return refused;
    }
    const id = commandId(args);
    if (id === undefined) {
      const promise = perform(spec, args, context, undefined);
      anonymous.add(promise);
      const result = await promise.finally(() => anonymous.delete(promise));
      observe(spec.op, outcomeOf(result), startedAt);
      return result;
    }

    const argsHash = hashArgs(args);
    const twin = running.get(id);
    if (twin !== undefined) {
      const conflict = idempotencyConflict(id, spec.op, argsHash, twin);
      if (conflict !== undefined) return refuse(spec.op, id, conflict, startedAt);
      const result = (await twin.promise) as Result<R>;
      observe(spec.op, 'replayed', startedAt);
      return result;
    }
    if (spec.record) {
      let recorded;
      try {
        recorded = deps.commandLog.get(id);
      } catch (err) {
        log.error({ op: spec.op, id, err }, 'could not read the command log');
        const failed = fail(new StickerbotError('INTERNAL', 'the command log is unavailable', { retryable: true }));
        observe(spec.op, failed.error.code, startedAt);
        return failed;
      }
      if (recorded !== undefined) {
        const conflict = idempotencyConflict(id, spec.op, argsHash, recorded);
        if (conflict !== undefined) return refuse(spec.op, id, conflict, startedAt);
        log.debug({ op: spec.op, id }, 'repeated command id answered from the log');
        observe(spec.op, 'replayed', startedAt);
        return recorded.result as Result<R>;
      }
    }

    const promise = perform(spec, args, context, { id, argsHash });
    running.set(id, { op: spec.op, argsHash, promise });
    try {
      const result = await promise;
      observe(spec.op, outcomeOf(result), startedAt);
      return result;
    } finally {
      running.delete(id);
    }
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
    close,
    get inFlight() {
      return running.size + anonymous.size;
    },
    get closing() {
      return closing;
    },
  };
}
