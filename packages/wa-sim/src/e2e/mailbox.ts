import type { proto } from '@whiskeysockets/baileys';
import { SimProtocolError } from '../errors.js';

/** A message a fake phone received from a companion and decrypted. */
export interface ReceivedMessage {
  /** Stanza id, as the sender's `messages.upsert` key id. */
  readonly id: string;
  /** Sender companion, `PN:device@s.whatsapp.net`. */
  readonly from: string;
  /** The decrypted message; for the account's own phone, unwrapped from `deviceSentMessage`. */
  readonly message: proto.IMessage;
  /** For copies sent to the account's own primary phone: the chat the companion wrote to. */
  readonly destinationJid?: string;
  /** For group messages: the group JID (the message was sender-key encrypted, `encType` `skmsg`). */
  readonly group?: string;
  /** `conversation` or `extendedTextMessage.text`, when the message is text. */
  readonly text?: string;
  /** `<enc type>` of the copy addressed to this phone (`skmsg` for group messages). */
  readonly encType: 'pkmsg' | 'msg' | 'skmsg';
  /** `<enc mediatype>`, for media messages. */
  readonly mediaType?: string;
  /** When the phone had decrypted it (epoch ms): the moment a user would see it (latency benchmarks). */
  readonly receivedAt: number;
}

/** An ordered inbox with waiters, one per fake phone. */
export function createMailbox() {
  const items: ReceivedMessage[] = [];
  const waiters: Array<(m: ReceivedMessage) => void> = [];
  const all: ReceivedMessage[] = [];
  const keys = new Set<string>();
  return {
    all: all as readonly ReceivedMessage[],
    /** Whether a message with this id from this sender device is here already: a phone shows a message id once. */
    holds: (id: string, from: string): boolean => keys.has(`${from} ${id}`),
    push(message: ReceivedMessage): void {
      keys.add(`${message.from} ${message.id}`);
      all.push(message);
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else items.push(message);
    },
    next(timeoutMs: number): Promise<ReceivedMessage> {
      const ready = items.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const waiter = (m: ReceivedMessage) => {
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(new SimProtocolError('timeout', `no message arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}

export type Mailbox = ReturnType<typeof createMailbox>;

/** Text of a message, if it is one. */
export const textOf = (message: proto.IMessage): string | undefined =>
  message.conversation ?? message.extendedTextMessage?.text ?? undefined;
