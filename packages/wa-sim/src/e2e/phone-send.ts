import { proto, writeRandomPadMax16, type BinaryNode } from '@whiskeysockets/baileys';
import { lidJid, pnJid, type Account, type CompanionDevice } from '../directory/accounts.js';
import { senderAttrs, type Group } from '../directory/groups.js';
import { takeCompanionBundle } from '../handlers/prekeys.js';
import { unixNow } from '../server/nodes.js';
import { deviceKey, type World } from '../server/world.js';
import { companionAddress } from './addresses.js';
import type { PreKeyBundle } from './fake-device.js';

/** A message a fake phone sent, kept so it can answer retry receipts. */
export interface PhoneSentMessage {
  readonly pn: string;
  readonly message: proto.IMessage;
  readonly mediaType?: string;
  /** The group JID, for group messages. */
  readonly group?: string;
  /** Sent from the phone's LID (`from='…@lid'` with `sender_pn`) instead of its phone number. */
  readonly fromLid?: boolean;
}

interface PairwiseOptions {
  readonly freshBundle?: PreKeyBundle;
  readonly retryCount?: number;
  readonly mediaType?: string;
}

/**
 * Encrypts a message from a phone for one companion with their pairwise Signal session and
 * returns the `<enc>` node. Without a session (or with `freshBundle`, as after a retry
 * receipt) it runs X3DH first.
 */
export async function pairwiseEnc(
  world: World,
  phone: Account,
  bot: Account,
  companion: CompanionDevice,
  message: proto.IMessage,
  options: PairwiseOptions = {},
): Promise<BinaryNode> {
  const address = companionAddress(bot, companion.deviceId);
  if (options.freshBundle) await phone.primary.startSession(address, options.freshBundle);
  else if (!phone.primary.hasSession(address)) await phone.primary.startSession(address, takeCompanionBundle(world, bot, companion));
  const plaintext = writeRandomPadMax16(proto.Message.encode(message).finish());
  const { type, ciphertext } = await phone.primary.encrypt(address, plaintext);
  return {
    tag: 'enc',
    attrs: {
      v: '2',
      type,
      ...(options.mediaType ? { mediatype: options.mediaType } : {}),
      ...(options.retryCount ? { count: String(options.retryCount) } : {}),
    },
    content: ciphertext,
  };
}

/**
 * Encrypts a phone's 1:1 message for one companion and builds the `<message>` stanza. From
 * the phone number with `sender_lid` (default), or from the LID with `sender_pn` (`fromLid`).
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
  const enc = await pairwiseEnc(world, phone, bot, companion, sent.message, { ...options, ...(sent.mediaType ? { mediaType: sent.mediaType } : {}) });
  const sender: Record<string, string> = sent.fromLid ? { from: lidJid(phone.lid), sender_pn: pnJid(phone.pn) } : { from: pnJid(phone.pn), sender_lid: lidJid(phone.lid) };
  return {
    tag: 'message',
    attrs: { ...sender, id, t: unixNow(), type: sent.mediaType ? 'media' : 'text', notify: phone.pushName },
    content: [enc],
  };
}

/** The name a fake phone's sender-key store uses for a sending device. */
export const senderKeyAuthor = (account: Account, deviceId: number): string => `${account.lid}.${deviceId}`;

/**
 * A phone's group message for every companion of the other members: one `skmsg` encrypted
 * with the phone's sender key, preceded (for companions that do not have that key yet) by a
 * pairwise `pkmsg`/`msg` carrying the SenderKeyDistributionMessage, as WhatsApp clients send it.
 */
export async function phoneGroupStanzas(
  world: World,
  phone: Account,
  group: Group,
  id: string,
  sent: PhoneSentMessage,
): Promise<Array<{ pn: string; deviceId: number; node: BinaryNode }>> {
  const keys = phone.primary.senderKeys;
  const self = senderKeyAuthor(phone, 0);
  // The distribution message must describe the chain before this message advances it.
  const distribution = await keys.ownDistribution(group.jid, self);
  const skmsg = await keys.encrypt(group.jid, self, writeRandomPadMax16(proto.Message.encode(sent.message).finish()));
  const given = group.distributed.get(phone.pn) ?? new Set<string>();
  group.distributed.set(phone.pn, given);
  const withhold = world.faults.withheldSenderKeys.delete(phone.pn);
  const mediaAttrs: Record<string, string> = sent.mediaType ? { mediatype: sent.mediaType } : {};
  const out: Array<{ pn: string; deviceId: number; node: BinaryNode }> = [];
  for (const { account: member } of group.members.values()) {
    if (member === phone) continue;
    for (const companion of member.companions.values()) {
      const key = deviceKey(member.pn, companion.deviceId);
      const content: BinaryNode[] = [];
      if (!given.has(key) && !withhold) {
        const skdm: proto.IMessage = { senderKeyDistributionMessage: { groupId: group.jid, axolotlSenderKeyDistributionMessage: distribution } };
        content.push(await pairwiseEnc(world, phone, member, companion, skdm, sent.mediaType ? { mediaType: sent.mediaType } : {}));
        given.add(key);
      }
      content.push({ tag: 'enc', attrs: { v: '2', type: 'skmsg', ...mediaAttrs }, content: skmsg });
      out.push({
        pn: member.pn,
        deviceId: companion.deviceId,
        node: {
          tag: 'message',
          attrs: {
            from: group.jid,
            ...senderAttrs(group, phone),
            id,
            t: unixNow(),
            type: sent.mediaType ? 'media' : 'text',
            notify: phone.pushName,
          },
          content,
        },
      });
    }
  }
  return out;
}

/**
 * The phone's answer to a companion's retry receipt for a group message: the message again,
 * pairwise and with the sender key attached (what WhatsApp clients do), addressed from the group.
 */
export async function phoneGroupRetryStanza(
  world: World,
  phone: Account,
  group: Group,
  bot: Account,
  companion: CompanionDevice,
  id: string,
  sent: PhoneSentMessage,
  options: { freshBundle?: PreKeyBundle; retryCount?: number },
): Promise<BinaryNode> {
  const distribution = await phone.primary.senderKeys.ownDistribution(group.jid, senderKeyAuthor(phone, 0));
  const message: proto.IMessage = {
    ...sent.message,
    senderKeyDistributionMessage: { groupId: group.jid, axolotlSenderKeyDistributionMessage: distribution },
  };
  const enc = await pairwiseEnc(world, phone, bot, companion, message, { ...options, ...(sent.mediaType ? { mediaType: sent.mediaType } : {}) });
  group.distributed.get(phone.pn)?.add(deviceKey(bot.pn, companion.deviceId));
  return {
    tag: 'message',
    attrs: { from: group.jid, ...senderAttrs(group, phone), id, t: unixNow(), type: sent.mediaType ? 'media' : 'text', notify: phone.pushName },
    content: [enc],
  };
}
