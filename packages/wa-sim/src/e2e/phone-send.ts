import { proto, writeRandomPadMax16, type BinaryNode } from '@whiskeysockets/baileys';
import { lidJid, pnJid, type Account, type CompanionDevice } from '../directory/accounts.js';
import { takeCompanionBundle } from '../handlers/prekeys.js';
import { unixNow } from '../server/nodes.js';
import type { World } from '../server/world.js';
import { companionAddress } from './addresses.js';
import type { PreKeyBundle } from './fake-device.js';

/** A message a fake phone sent, kept so it can answer retry receipts. */
export interface PhoneSentMessage {
  readonly pn: string;
  readonly message: proto.IMessage;
  readonly mediaType?: string;
}

/**
 * Encrypts a phone's message for one companion and builds the `<message>` stanza. Without a
 * session (or with `freshBundle`, as after a retry receipt) it runs X3DH first.
 */
export async function phoneStanzaFor(
  world: World,
  phone: Account,
  bot: Account,
  companion: CompanionDevice,
  id: string,
  sent: PhoneSentMessage,
  options: { freshBundle?: PreKeyBundle; retryCount?: number } = {},
): Promise<BinaryNode> {
  const address = companionAddress(bot, companion.deviceId);
  if (options.freshBundle) await phone.primary.startSession(address, options.freshBundle);
  else if (!phone.primary.hasSession(address)) await phone.primary.startSession(address, takeCompanionBundle(world, bot, companion));
  const plaintext = writeRandomPadMax16(proto.Message.encode(sent.message).finish());
  const { type, ciphertext } = await phone.primary.encrypt(address, plaintext);
  return {
    tag: 'message',
    attrs: {
      from: pnJid(phone.pn),
      id,
      t: unixNow(),
      type: sent.mediaType ? 'media' : 'text',
      notify: phone.pushName,
      sender_lid: lidJid(phone.lid),
    },
    content: [
      {
        tag: 'enc',
        attrs: {
          v: '2',
          type,
          ...(sent.mediaType ? { mediatype: sent.mediaType } : {}),
          ...(options.retryCount ? { count: String(options.retryCount) } : {}),
        },
        content: ciphertext,
      },
    ],
  };
}
