import { proto, unpadRandomMax16, type BinaryNode } from '@whiskeysockets/baileys';
import { companionAddress, deviceOfJid } from '../e2e/addresses.js';
import { textOf } from '../e2e/mailbox.js';
import { verifyDeviceIdentity } from '../pairing/adv.js';
import type { HandlerContext, HandlerTable } from '../server/router.js';
import { child, childBytes, children, unixNow } from '../server/nodes.js';
import { mailboxOf, type World } from '../server/world.js';
import type { Account } from '../directory/accounts.js';

interface Copy {
  readonly jid: string;
  readonly enc: BinaryNode;
}

const copiesOf = (node: BinaryNode): Copy[] => {
  const participants = child(node, 'participants');
  if (participants) {
    return children(participants).flatMap((to) => {
      const enc = child(to, 'enc');
      return enc ? [{ jid: to.attrs.jid ?? '', enc }] : [];
    });
  }
  const enc = child(node, 'enc');
  return enc ? [{ jid: node.attrs.to ?? '', enc }] : [];
};

const encBytes = (enc: BinaryNode): Buffer =>
  enc.content instanceof Uint8Array
    ? Buffer.from(enc.content)
    : Buffer.from(typeof enc.content === 'string' ? enc.content : '', 'binary');

async function deliverCopyToPhone(
  world: World,
  sender: Account,
  senderDevice: number,
  recipient: Account,
  id: string,
  copy: Copy,
): Promise<void> {
  const type = copy.enc.attrs.type === 'pkmsg' ? 'pkmsg' : 'msg';
  const plaintext = await recipient.primary.decrypt(companionAddress(sender, senderDevice), { type, ciphertext: encBytes(copy.enc) });
  const decoded = proto.Message.decode(unpadRandomMax16(plaintext));
  const dsm = recipient === sender ? decoded.deviceSentMessage : undefined;
  const message = dsm?.message ?? decoded;
  const text = textOf(message);
  mailboxOf(world, recipient.pn).push({
    id,
    from: `${sender.pn}:${senderDevice}@s.whatsapp.net`,
    message,
    encType: type,
    ...(dsm?.destinationJid ? { destinationJid: dsm.destinationJid } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(copy.enc.attrs.mediatype ? { mediaType: copy.enc.attrs.mediatype } : {}),
  });
}

async function onClientMessage({ world, connection }: HandlerContext, node: BinaryNode): Promise<void> {
  const login = connection.login;
  const sender = login ? world.directory.byPn(login.pn) : undefined;
  const companion = login ? sender?.companions.get(login.deviceId) : undefined;
  const id = node.attrs.id ?? '';
  const to = node.attrs.to ?? '';
  if (!login || !sender || !companion) return;
  const injectedError = world.faults.messageAckErrors.shift();
  if (injectedError !== undefined) {
    connection.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow(), error: String(injectedError) } });
    return;
  }

  const identity = childBytes(node, 'device-identity');
  if (identity) {
    try {
      verifyDeviceIdentity(identity, sender.accountKey.public, companion.identityKey, companion.deviceDetails);
    } catch (err) {
      world.problems.push(`message ${id}: ${(err as Error).message}`);
    }
  }

  const recipients = new Set<Account>();
  for (const copy of copiesOf(node)) {
    const recipient = world.directory.byJid(copy.jid);
    if (!recipient || deviceOfJid(copy.jid) !== 0) {
      // Copies for other companions would be relayed to them; the emulator has one companion per account.
      if (!recipient) world.problems.push(`message ${id}: copy for unknown ${copy.jid}`);
      continue;
    }
    try {
      await deliverCopyToPhone(world, sender, login.deviceId, recipient, id, copy);
      if (recipient !== sender) recipients.add(recipient);
    } catch (err) {
      world.problems.push(`message ${id}: ${copy.jid} could not decrypt: ${(err as Error).message}`);
    }
  }

  connection.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow() } });
  if (recipients.size > 0) {
    setTimeout(() => {
      connection.send({ tag: 'receipt', attrs: { from: to, id, t: unixNow() } });
    }, world.receiptDelayMs).unref();
  }
}

/** Client `<receipt>`s for messages from fake phones: acknowledged and recorded. */
function onClientReceipt({ world, connection }: HandlerContext, node: BinaryNode): void {
  const id = node.attrs.id ?? '';
  const type = node.attrs.type ?? 'delivery';
  const ids = [id, ...children(child(node, 'list')).map((item) => item.attrs.id ?? '')];
  for (const messageId of ids) {
    const seen = world.receiptsFromCompanions.get(messageId) ?? [];
    seen.push(type);
    world.receiptsFromCompanions.set(messageId, seen);
  }
  connection.send({
    tag: 'ack',
    attrs: { class: 'receipt', id, from: node.attrs.to ?? '', ...(node.attrs.type ? { type: node.attrs.type } : {}) },
  });
}

/** Messages and receipts from companions. */
export const messageHandlers: HandlerTable = {
  message: onClientMessage,
  receipt: onClientReceipt,
};
