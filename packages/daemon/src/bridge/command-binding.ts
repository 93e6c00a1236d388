/**
 * How a namespace offers a table of commands, the same for `/worker` and `/dashboard`: one
 * listener per command of the protocol's table, whose payload is parsed with that
 * command's schema here, at the edge, before anything else sees it (`INVALID_ARGS` naming
 * the fields otherwise); the typed arguments then go to the command executor, and its
 * {@link Result} back through the Socket.IO acknowledgement. An event that is no command
 * is refused with `INVALID_ARGS` too. A command sent without an acknowledgement callback
 * is ignored: there is nobody to answer.
 */
import { StickerbotError, fail, parsePayload, type Result } from '@stickerbot/protocol';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CommandExecutor, CommandSpec } from './command-executor.js';

/** A protocol command table `T`: op → schemas of its arguments and of its result (`WORKER_COMMANDS`, `DASHBOARD_COMMANDS`). */
export type CommandSchemas<T> = { readonly [N in keyof T]: { readonly args: z.ZodType; readonly result: z.ZodType } };

/** The op names of a command table. */
export type CommandName<T> = keyof T & string;

/** A spec for every command of a protocol table, keyed by op, with the context its handlers get. */
export type CommandTable<T extends CommandSchemas<T>, C = void> = {
  readonly [N in CommandName<T>]: CommandSpec<T[N]['args'], T[N]['result'], C>;
};

/** The handler of command `op` of table `T`: typed by that command's schemas. */
export type CommandHandler<T extends CommandSchemas<T>, N extends CommandName<T>, C> = CommandSpec<T[N]['args'], T[N]['result'], C>['run'];

/** The spec of command `op` of a protocol table: its schemas, whether its outcome is recorded, and its handler. */
export function defineCommand<T extends CommandSchemas<T>, N extends CommandName<T>, C = void>(
  schemas: T,
  op: N,
  options: { record: boolean },
  run: CommandHandler<T, N, C>,
): CommandSpec<T[N]['args'], T[N]['result'], C> {
  const { args, result } = schemas[op];
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

/** Socket.IO passes the client's acknowledgement callback as the last parameter, when the client asked for one. */
function isAck(value: unknown): value is (result: Result<unknown>) => void {
  return typeof value === 'function';
}

/** What {@link bindCommands} needs. */
export interface CommandBinding<C> {
  socket: CommandSocket;
  /** The commands to offer, keyed by op: a {@link CommandTable} of the namespace's protocol table. */
  commands: { readonly [op: string]: CommandSpec<z.ZodType, z.ZodType, C> };
  executor: CommandExecutor;
  /** What each handler gets besides its arguments (the caller's principal on `/dashboard`). */
  context: C;
  /** Events of the namespace that are not commands and are handled elsewhere (`event:ack`). */
  otherEvents?: readonly string[];
  logger: Logger;
}

/**
 * Offers every command of `commands` on `socket`. A spec's schema parses the payload into
 * exactly what its handler takes, so the arguments stay typed from the edge to the handler
 * (the protocol's event maps derive from the same schemas).
 */
export function bindCommands<C>(binding: CommandBinding<C>): void {
  const { socket, commands, executor, context, logger: log } = binding;
  const otherEvents = new Set(binding.otherEvents);

  function answer(spec: CommandSpec<z.ZodType, z.ZodType, C>, raw: unknown): Promise<Result<unknown>> {
    let args: unknown;
    try {
      args = parsePayload(spec.args, raw, spec.op);
    } catch (thrown) {
      return Promise.resolve(executor.refuse(spec.op, thrown));
    }
    return executor.execute(spec, args, context);
  }

  for (const [op, spec] of Object.entries(commands)) {
    socket.on(op, (...params) => {
      const ack = params.at(-1);
      if (!isAck(ack)) {
        log.warn({ op }, 'command without an acknowledgement callback ignored');
        return;
      }
      const raw = params.length > 1 ? params[0] : undefined;
      void answer(spec, raw).then(ack);
    });
  }
  socket.onAny((event, ...params) => {
    if (Object.hasOwn(commands, event) || otherEvents.has(event)) return;
    log.warn({ event }, 'unknown command refused');
    const ack = params.at(-1);
    if (isAck(ack)) ack(fail(new StickerbotError('INVALID_ARGS', `unknown command ${event}`)));
  });
}
