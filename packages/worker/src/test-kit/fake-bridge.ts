/**
 * A test double of the worker's own bridge-client interface ({@link CommandSender}): it
 * records every command and answers like the daemon would, with media looked up by
 * message id. Router and command tests use it; the real bridge is tested against a real
 * Socket.IO server.
 */
import {
  PROTOCOL_VERSION,
  StickerbotError,
  WORKER_COMMANDS,
  type WorkerCommandArgs,
  type WorkerCommandName,
  type WorkerCommandResult,
} from '@stickerbot/protocol';
import type { CommandSender } from '../bridge/bridge-client.js';

export interface SentCommand {
  name: WorkerCommandName;
  args: WorkerCommandArgs<WorkerCommandName>;
}

export interface FakeBridge extends CommandSender {
  readonly sent: SentCommand[];
  /** Media the "daemon" can download, by message id. */
  readonly media: Map<string, { data: Buffer; mimetype: string }>;
  /** Group admins by group JID: phone-number JIDs, or `{ jid, lid }` for a member the group lists by LID. */
  readonly admins: Map<string, Array<string | { jid: string; lid: string }>>;
  /** Makes every command of this name fail with this error. */
  failing: Partial<Record<WorkerCommandName, StickerbotError>>;
  /** `message:send` contents of a given type. */
  sentOfType(type: string): Array<WorkerCommandArgs<'message:send'>>;
  /** The texts sent. */
  texts(): string[];
  /** The reaction emojis sent. */
  reactions(): string[];
}

export function createFakeBridge(): FakeBridge {
  const sent: SentCommand[] = [];
  const media = new Map<string, { data: Buffer; mimetype: string }>();
  const admins = new Map<string, Array<string | { jid: string; lid: string }>>();
  let counter = 0;
  const fake: FakeBridge = {
    sent,
    media,
    admins,
    failing: {},
    command<N extends WorkerCommandName>(name: N, args: WorkerCommandArgs<N>): Promise<WorkerCommandResult<N>> {
      WORKER_COMMANDS[name].args.parse(args);
      sent.push({ name, args });
      const failure = fake.failing[name];
      if (failure) return Promise.reject(failure);
      const answer = (): unknown => {
        switch (name) {
          case 'message:send':
            return { messageId: `BOT${++counter}`, timestamp: Date.now() };
          case 'media:download': {
            const found = media.get((args as WorkerCommandArgs<'media:download'>).messageId);
            if (!found) throw new StickerbotError('MESSAGE_NOT_FOUND');
            return { data: new Uint8Array(found.data), mimetype: found.mimetype, size: found.data.byteLength };
          }
          case 'daemon:status':
            return { protocol: PROTOCOL_VERSION, startedAt: Date.now() - 3_600_000, now: Date.now() };
          case 'group:metadata': {
            const chat = (args as WorkerCommandArgs<'group:metadata'>).chat;
            const listed = (admins.get(chat) ?? []).map((admin) => (typeof admin === 'string' ? { jid: admin } : admin));
            return { jid: chat, subject: 'Group', participants: listed.map((member) => ({ ...member, admin: 'admin' })) };
          }
          case 'session:list':
            return { sessions: [{ id: 'default', status: 'CONNECTED', reconnectAttempts: 0, updatedAt: 1, account: { jid: '100@s.whatsapp.net', phone: '100000000' } }] };
          default:
            throw new StickerbotError('INTERNAL', `fake bridge does not do ${name}`);
        }
      };
      try {
        return Promise.resolve(WORKER_COMMANDS[name].result.parse(answer()) as WorkerCommandResult<N>);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    sentOfType(type) {
      return sent
        .filter((command) => command.name === 'message:send')
        .map((command) => command.args as WorkerCommandArgs<'message:send'>)
        .filter((args) => args.content.type === type);
    },
    texts() {
      return fake.sentOfType('text').map((args) => (args.content.type === 'text' ? args.content.text : ''));
    },
    reactions() {
      return fake.sentOfType('reaction').map((args) => (args.content.type === 'reaction' ? args.content.emoji : ''));
    },
  };
  return fake;
}
