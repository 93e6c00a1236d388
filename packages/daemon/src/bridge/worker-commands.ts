/**
 * The `/worker` commands, one table: op → spec (the protocol's schemas plus a handler that
 * calls the session registry). The namespace registers every entry the same way; adding a
 * command to the protocol without adding it here is a type error.
 */
import {
  PROTOCOL_VERSION,
  StickerbotError,
  WORKER_COMMANDS,
  type WorkerCommandArgs,
  type WorkerCommandName,
  type WorkerCommandResult,
} from '@stickerbot/protocol';
import type { CommandSpec } from './command-executor.js';
import type { SessionRegistry } from '../session-registry.js';

/** Every worker command's spec, keyed by op. */
export type WorkerCommandTable = { readonly [N in WorkerCommandName]: CommandSpec<WorkerCommandArgs<N>, WorkerCommandResult<N>> };

/** Collaborators of the worker command handlers. */
export interface WorkerCommandDeps {
  registry: SessionRegistry;
  /** Largest media accepted for sending, in bytes. */
  maxMediaBytes: number;
  /** When this daemon started (epoch ms), for `daemon:status`. */
  startedAt: number;
  now: () => number;
}

/** Commands whose outcome is recorded under their id: they act on WhatsApp, so a repeat must not act twice. */
const RECORDED: ReadonlySet<WorkerCommandName> = new Set(['message:send', 'message:read', 'presence:send']);

function spec<N extends WorkerCommandName>(
  op: N,
  run: (args: WorkerCommandArgs<N>) => Promise<WorkerCommandResult<N>> | WorkerCommandResult<N>,
): CommandSpec<WorkerCommandArgs<N>, WorkerCommandResult<N>> {
  const schemas = WORKER_COMMANDS[op];
  return {
    op,
    args: schemas.args as unknown as CommandSpec<WorkerCommandArgs<N>, WorkerCommandResult<N>>['args'],
    result: schemas.result as unknown as CommandSpec<WorkerCommandArgs<N>, WorkerCommandResult<N>>['result'],
    record: RECORDED.has(op),
    run,
  };
}

/** Builds the table of worker commands. */
export function createWorkerCommandTable(deps: WorkerCommandDeps): WorkerCommandTable {
  const { registry } = deps;
  return {
    'message:send': spec('message:send', (args) => {
      const { content } = args;
      if (content.type !== 'text' && content.type !== 'reaction' && content.data.byteLength > deps.maxMediaBytes) {
        throw new StickerbotError(
          'MEDIA_TOO_LARGE',
          `${content.type} of ${content.data.byteLength} bytes is over the ${deps.maxMediaBytes}-byte cap`,
        );
      }
      return registry.send(args);
    }),
    'media:download': spec('media:download', (args) => registry.downloadMedia(args)),
    'message:read': spec('message:read', (args) => registry.readMessages(args)),
    'presence:send': spec('presence:send', (args) => registry.sendPresence(args)),
    'contact:lookup': spec('contact:lookup', (args) => registry.lookupContacts(args)),
    'group:metadata': spec('group:metadata', (args) => registry.groupMetadata(args)),
    'session:list': spec('session:list', () => ({ sessions: registry.list() })),
    'daemon:status': spec('daemon:status', () => ({ protocol: PROTOCOL_VERSION, startedAt: deps.startedAt, now: deps.now() })),
  };
}
