import type { proto } from '@whiskeysockets/baileys';
import { pnJid } from '../directory/accounts.js';
import { phoneStanzaFor } from '../e2e/phone-send.js';
import { SimProtocolError } from '../errors.js';
import { newMessageId } from '../pairing/qr-pairing.js';
import { deliverToCompanion, type World } from '../server/world.js';

/** The bot account's own primary phone: what its owner types there shows up on the companions. */
export interface PrimaryPhone {
  /**
   * The owner writes to `toPn` from the phone. Companions get the `deviceSentMessage` copy and
   * emit a `fromMe` upsert in that chat.
   */
  sendText(toPn: string, text: string): Promise<{ id: string }>;
}

export function createPrimaryPhone(world: World, pn: string): PrimaryPhone {
  return {
    async sendText(toPn, text) {
      const account = world.directory.byPn(pn);
      if (!account || account.companions.size === 0) throw new SimProtocolError('not-connected', `${pn} has no linked companion`);
      const destinationJid = pnJid(toPn);
      const message: proto.IMessage = { deviceSentMessage: { destinationJid, message: { conversation: text } } };
      const id = newMessageId();
      const sent = { pn, message };
      world.phoneSent.set(id, sent);
      for (const companion of account.companions.values()) {
        const stanza = await phoneStanzaFor(world, account, account, companion, id, sent);
        deliverToCompanion(world, pn, companion.deviceId, { ...stanza, attrs: { ...stanza.attrs, recipient: destinationJid } });
      }
      return { id };
    },
  };
}
