/**
 * How a namespace offers a table of commands, the same for `/worker` and `/dashboard`: one
 * listener per command of the protocol's table, whose payload is parsed with that
 * command's schema here, at the edge, before anything else sees it (`INVALID_ARGS` naming
 * the fields otherwise); the typed arguments then go to the command executor, and its
 * {@link Result} back through the Socket.IO acknowledgement. An event that is no command
 * is refused with `INVALID_ARGS` too. A command sent without an acknowledgement callback
 * is ignored: there is nobody to answer.
 */
import { StickerbotError, fail, parsePayload, type Ack, type Result } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CommandExecutor, CommandSpec } from './command-executor.js';

/** A protocol command table: op → schemas of its arguments and of its result (`WORKER_COMMANDS`, `DASHBOARD_COMMANDS`). */
export type CommandSchemas = { readonly [op: string]: { readonly args: z.ZodType; readonly result: z.ZodType } };

/** The op names of a command table. */
export type CommandName<T extends CommandSchemas> = keyof T & string;

/** A spec for every command of a protocol table, keyed by op, with the context its handlers get. */
export type CommandTable<T extends CommandSchemas, C = void> = {
  readonly [N in CommandName<T>]: CommandSpec<T[N]['args'], T[N]['result'], C>;
};

/**
 * The Socket.IO events a command table answers: each command with its arguments and its
 * acknowledgement. The protocol's event maps (`WorkerClientToServerEvents`,
 * `DashboardClientToServerEvents`) must extend it, which {@link bindCommands} checks.
 */
export type CommandEvents<T extends CommandSchemas> = {
  [N in CommandName<T>]: (args: z.output<T[N]['args']>, ack: Ack<z.output<T[N]['result']>>) => void;
};

/** The handler of command `op` of table `T`: typed by that command's schemas. */
export type CommandHandler<T extends CommandSchemas, N extends CommandName<T>, C> = CommandSpec<T[N]['args'], T[N]['result'], C>['run'];

/** The spec of command `op` of a protocol table: its schemas, whether its outcome is recorded, and its handler. */
export function defineCommand<T extends CommandSchemas, N extends CommandName<T>, C = void>(
  schemas: T,
  op: N,
  options: { record: boolean },
  run: CommandHandler<T, N, C>,
): CommandSpec<T[N]['args'], T[N]['result'], C> {
  const { args, result } = schemas[op] as T[N];
  return { op, args, result, record: options.record, run };
}

/**
 * The part of a Socket.IO server socket the binding uses. A namespace's typed socket is
 * one as it is: listening by a name that is a string is how a table of names can be
 * walked (Socket.IO's typed `on` takes one literal name at a time), and it keeps the raw
 * parameters, so a command sent with a callback but no payload is answered too.
 */
export interface CommandSocket {
  on(event: string, listener: (...params: unknown[]) => void): unknown;
  onAny(listener: (event: string, ...params: unknown[]) => void): unknown;
}

/** What {@link bindCommands} needs. */
export interface CommandBinding<T extends CommandSchemas, C> {
  socket: CommandSocket;
  /** The protocol's table (its schemas parse the payloads). */
  schemas: T;
  /** The daemon's spec of each of its commands. */
  commands: CommandTable<T, C>;
  executor: CommandExecutor;
  /** What each handler gets besides its arguments (the caller's principal on `/dashboard`). */
  context: C;
  /** Events of the namespace that are not commands and are handled elsewhere (`event:ack`). */
  otherEvents?: readonly string[];
  logger: Logger;
}

/**
 * Offers every command of `commands` on `socket`. `E`, the namespace's event map, must
 * give each command the arguments and the acknowledgement of its schemas: a protocol
 * event map and a command table that drifted apart do not compile.
 */
export function bindCommands<T extends CommandSchemas, E extends CommandEvents<T>, C>(binding: CommandBinding<T, C> & { events?: E }): void {
  const { socket, commands, executor, context, logger: log } = binding;
  const otherEvents = new Set(binding.otherEvents);

  function answer<N extends CommandName<T>>(op: N, raw: unknown): Promise<Result<z.output<T[N]['result']>>> {
    const spec: CommandSpec<T[N]['args'], T[N]['result'], C> = commands[op];
    let args: z.output<T[N]['args']>;
    try {
      args = parsePayload(spec.args, raw, op);
    } catch (thrown) {
      return Promise.resolve(executor.refuse(op, thrown));
    }
    return executor.execute(spec, args, context);
  }

  for (const op of Object.keys(commands) as Array<CommandName<T>>) {
    socket.on(op, (...params) => {
      const ack = params.at(-1);
      if (typeof ack !== 'function') {
        log.warn({ op }, 'command without an acknowledgement callback ignored');
        return;
      }
      const raw = params.length > 1 ? params[0] : undefined;
      void answer(op, raw).then((result) => void ack(result));
    });
  }
  socket.onAny((event, ...params) => {
    if (Object.hasOwn(commands, event) || otherEvents.has(event)) return;
    log.warn({ event }, 'unknown command refused');
    const ack = params.at(-1);
    if (typeof ack === 'function') ack(fail(new StickerbotError('INVALID_ARGS', `unknown command ${event}`)));
  });
}
