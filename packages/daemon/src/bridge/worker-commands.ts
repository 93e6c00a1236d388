/**
 * The `/worker` commands, one table: op → spec (the protocol's schemas plus a handler that
 * calls the session registry). The namespace binds every entry the same way; adding a
 * command to the protocol without adding it here is a type error. The media cap of
 * `message:send` is checked here, where the media enters the daemon, and nowhere else.
 */
import { PROTOCOL_VERSION, StickerbotError, WORKER_COMMANDS, type WorkerCommandName } from '@stickerbot/protocol';
import { defineCommand, type CommandHandler, type CommandTable } from './command-binding.js';
import type { SessionRegistry } from '../session-registry.js';

/** Every worker command's spec, keyed by op. */
export type WorkerCommandTable = CommandTable<typeof WORKER_COMMANDS>;

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

function spec<N extends WorkerCommandName>(op: N, run: CommandHandler<typeof WORKER_COMMANDS, N, void>) {
  return defineCommand(WORKER_COMMANDS, op, { record: RECORDED.has(op) }, run);
}

/** Builds the table of worker commands. */
export function createWorkerCommandTable(deps: WorkerCommandDeps): WorkerCommandTable {
  const { registry } = deps;
  return {
    'message:send': spec('message:send', (args, _context, argsHash) => {
      const { content } = args;
      if (content.type !== 'text' && content.type !== 'reaction' && content.data.byteLength > deps.maxMediaBytes) {
        throw new StickerbotError(
          'MEDIA_TOO_LARGE',
          `${content.type} of ${content.data.byteLength} bytes is over the ${deps.maxMediaBytes}-byte cap`,
        );
      }
      return registry.send(args, argsHash);
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
