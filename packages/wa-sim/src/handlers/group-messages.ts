import { proto, unpadRandomMax16, type BinaryNode } from '@whiskeysockets/baileys';
import type { Account } from '../directory/accounts.js';
import { pnJid } from '../directory/accounts.js';
import { memberJid, senderAttrs, type Group } from '../directory/groups.js';
import { companionAddress, deviceOfJid } from '../e2e/addresses.js';
import { textOf } from '../e2e/mailbox.js';
import { senderKeyAuthor } from '../e2e/phone-send.js';
import type { HandlerContext } from '../server/router.js';
import { child, children, nodeBytes, unixNow } from '../server/nodes.js';
import type { ClientConnection } from '../server/client-connection.js';
import { deliverToCompanion, deviceKey, mailboxOf, type World } from '../server/world.js';
import { phoneRetryReceipt } from './prekeys.js';

/** A fake phone's pairwise copy: usually a SenderKeyDistributionMessage, stored in its sender-key store. */
async function takePairwiseCopy(world: World, group: Group, sender: Account, senderDevice: number, phone: Account, enc: BinaryNode): Promise<void> {
  const type = enc.attrs.type === 'pkmsg' ? 'pkmsg' : 'msg';
  const plaintext = await phone.primary.decrypt(companionAddress(sender, senderDevice), { type, ciphertext: nodeBytes(enc) });
  const message = proto.Message.decode(unpadRandomMax16(plaintext));
  const distribution = message.senderKeyDistributionMessage?.axolotlSenderKeyDistributionMessage;
  if (distribution && !world.faults.lostSenderKeys.delete(phone.pn)) {
    await phone.primary.senderKeys.process(group.jid, senderKeyAuthor(sender, senderDevice), distribution);
  }
}

const retriesAsked = new WeakMap<Group, Set<string>>();

/**
 * A member's phone got an `skmsg` whose sender key it does not hold: like a WhatsApp client,
 * it asks the sending device to send the message again (retry receipt); the client then
 * re-distributes its sender key. A second miss for the same message is a protocol problem.
 */
function askForRetry(world: World, connection: ClientConnection, group: Group, member: Account, node: BinaryNode): void {
  const id = node.attrs.id ?? '';
  const asked = retriesAsked.get(group) ?? new Set<string>();
  retriesAsked.set(group, asked);
  if (asked.has(`${id} ${member.pn}`)) {
    world.problems.push(`group message ${id}: ${member.pn} still has no sender key after a retry`);
    return;
  }
  asked.add(`${id} ${member.pn}`);
  connection.send(phoneRetryReceipt(member, { from: group.jid, participant: memberJid(group, member) }, id, node.attrs.t ?? unixNow(), 1, false));
}

/**
 * A companion's message to a group: pairwise copies (sender-key distribution) go to the
 * members' devices, then every member's fake phone decrypts the one `skmsg` with the sender
 * key it holds; other real companions get the stanza relayed as from the group.
 */
export async function onClientGroupMessage({ world, connection }: HandlerContext, node: BinaryNode, sender: Account, senderDevice: number): Promise<void> {
  const id = node.attrs.id ?? '';
  const to = node.attrs.to ?? '';
  const group = world.groups.find(to);
  if (!group || !group.members.has(sender.pn)) {
    // WhatsApp refuses sends to groups the sender is not in; Baileys surfaces the ack error.
    connection.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow(), error: group ? '403' : '404' } });
    if (!group) world.problems.push(`message ${id}: to unknown group ${to}`);
    return;
  }

  const pairwise = new Map<string, BinaryNode>();
  for (const copy of children(child(node, 'participants'))) {
    const enc = child(copy, 'enc');
    const jid = copy.attrs.jid ?? '';
    const recipient = world.directory.byJid(jid);
    const recipientDevice = deviceOfJid(jid);
    if (!enc || !recipient || !group.members.has(recipient.pn)) {
      world.problems.push(`group message ${id}: copy for ${jid}, who is not a member of ${group.jid}`);
      continue;
    }
    if (recipientDevice !== 0) {
      pairwise.set(deviceKey(recipient.pn, recipientDevice), enc);
      continue;
    }
    try {
      await takePairwiseCopy(world, group, sender, senderDevice, recipient, enc);
    } catch (err) {
      world.problems.push(`group message ${id}: ${jid} could not decrypt its pairwise copy: ${(err as Error).message}`);
    }
  }
  connection.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow() } });

  const skmsg = children(node).find((c) => c.tag === 'enc' && c.attrs.type === 'skmsg');
  if (!skmsg) return;
  const author = senderKeyAuthor(sender, senderDevice);
  const delivered: Account[] = [];
  for (const { account: member } of group.members.values()) {
    // Real companions of the members (other clients of this network, or the sender's other devices).
    for (const companion of member.companions.values()) {
      if (member === sender && companion.deviceId === senderDevice) continue;
      const copy = pairwise.get(deviceKey(member.pn, companion.deviceId));
      deliverToCompanion(world, member.pn, companion.deviceId, {
        tag: 'message',
        attrs: { from: group.jid, ...senderAttrs(group, sender, senderDevice), id, t: unixNow(), type: node.attrs.type ?? 'text', notify: sender.pushName },
        content: [...(copy ? [copy] : []), skmsg],
      });
    }
    if (!member.primary.senderKeys.has(group.jid, author)) {
      askForRetry(world, connection, group, member, node);
      continue;
    }
    try {
      const plaintext = await member.primary.senderKeys.decrypt(group.jid, author, nodeBytes(skmsg));
      const message = proto.Message.decode(unpadRandomMax16(plaintext));
      const text = textOf(message);
      const mailbox = mailboxOf(world, member.pn);
      const from = pnJid(sender.pn, senderDevice);
      // A resend after some member's retry receipt reaches everyone again; phones show it once.
      if (mailbox.holds(id, from)) continue;
      mailbox.push({
        id,
        from,
        group: group.jid,
        message,
        encType: 'skmsg',
        receivedAt: Date.now(),
        ...(text !== undefined ? { text } : {}),
        ...(skmsg.attrs.mediatype ? { mediaType: skmsg.attrs.mediatype } : {}),
      });
      if (member !== sender) delivered.push(member);
    } catch (err) {
      world.problems.push(`group message ${id}: ${member.pn} could not decrypt the skmsg: ${(err as Error).message}`);
    }
  }
  if (delivered.length === 0) return;
  setTimeout(() => {
    for (const member of delivered) {
      connection.send({ tag: 'receipt', attrs: { from: group.jid, id, participant: memberJid(group, member), t: unixNow() } });
    }
  }, world.receiptDelayMs).unref();
}
