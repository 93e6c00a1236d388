import { proto, unpadRandomMax16, type BinaryNode } from '@whiskeysockets/baileys';
import { companionAddress, deviceOfJid } from '../e2e/addresses.js';
import { textOf } from '../e2e/mailbox.js';
import { verifyDeviceIdentity } from '../pairing/adv.js';
import type { HandlerContext, HandlerTable } from '../server/router.js';
import { child, childBytes, children, nodeBytes, unixNow } from '../server/nodes.js';
import { deliverToCompanion, mailboxOf, receiptedByCompanion, type World } from '../server/world.js';
import { lidJid, pnJid, type Account } from '../directory/accounts.js';
import { decodeBigEndian } from '../crypto/primitives.js';
import type { PreKeyBundle } from '../e2e/fake-device.js';
import { phoneGroupRetryStanza, phoneStanzaFor } from '../e2e/phone-send.js';
import type { ClientConnection } from '../server/client-connection.js';
import { phoneRetryReceipt, takeCompanionBundle } from './prekeys.js';
import { onClientGroupMessage } from './group-messages.js';

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

async function deliverCopyToPhone(
  world: World,
  sender: Account,
  senderDevice: number,
  recipient: Account,
  id: string,
  copy: Copy,
): Promise<void> {
  const type = copy.enc.attrs.type === 'pkmsg' ? 'pkmsg' : 'msg';
  const plaintext = await recipient.primary.decrypt(companionAddress(sender, senderDevice), { type, ciphertext: nodeBytes(copy.enc) });
  const decoded = proto.Message.decode(unpadRandomMax16(plaintext));
  const dsm = recipient === sender ? decoded.deviceSentMessage : undefined;
  const message = dsm?.message ?? decoded;
  const text = textOf(message);
  const from = `${sender.pn}:${senderDevice}@s.whatsapp.net`;
  const mailbox = mailboxOf(world, recipient.pn);
  // A message id is shown once: a resend after some phone's retry receipt reaches every device
  // of both accounts again, and a new owner of the session may send again what the old one sent.
  if (mailbox.holds(id, from)) return;
  mailbox.push({
    id,
    from,
    message,
    encType: type,
    receivedAt: Date.now(),
    ...(dsm?.destinationJid ? { destinationJid: dsm.destinationJid } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(copy.enc.attrs.mediatype ? { mediaType: copy.enc.attrs.mediatype } : {}),
  });
}

/** Passes a copy addressed to another real companion on, as sent by the sender's device. */
function relayToCompanion(
  world: World,
  node: BinaryNode,
  copy: Copy,
  senderDevice: number,
  sender: Account,
  recipient: Account,
  recipientDevice: number,
): void {
  deliverToCompanion(world, recipient.pn, recipientDevice, {
    tag: 'message',
    attrs: {
      from: pnJid(sender.pn, senderDevice),
      id: node.attrs.id ?? '',
      t: unixNow(),
      type: node.attrs.type ?? 'text',
      sender_lid: lidJid(sender.lid),
      ...(recipient === sender ? { recipient: node.attrs.to ?? '' } : { notify: sender.pushName }),
    },
    content: [copy.enc],
  });
}

/** Retry receipts a fake phone sends for one message before it gives up. */
const MAX_PHONE_RETRIES = 3;

/**
 * A fake phone could not decrypt a companion's copy: the companion's Signal state is behind
 * the phone's (say its last ratchet step was lost with a killed process). Like a WhatsApp
 * client, the phone sends a retry receipt carrying a fresh prekey bundle; the client starts a
 * new session from it and sends the message again. Still failing after MAX_PHONE_RETRIES is a
 * protocol problem.
 */
function askPhoneRetry(world: World, connection: ClientConnection, node: BinaryNode, copy: Copy, sender: Account, phone: Account, reason: string): void {
  const id = node.attrs.id ?? '';
  const asked = world.phoneRetries.get(id) ?? new Map<string, number>();
  world.phoneRetries.set(id, asked);
  const count = (asked.get(phone.pn) ?? 0) + 1;
  if (count > MAX_PHONE_RETRIES) {
    world.problems.push(`message ${id}: ${copy.jid} could not decrypt, after ${MAX_PHONE_RETRIES} retry receipts: ${reason}`);
    return;
  }
  asked.set(phone.pn, count);
  world.log.info({ id, phone: phone.pn, count, reason }, 'a phone could not decrypt a message and asks for it again');
  // The own phone's receipt names the chat, as for the copy of a message to someone else.
  const attrs = { from: copy.jid, ...(phone === sender ? { recipient: node.attrs.to ?? '' } : {}) };
  connection.send(phoneRetryReceipt(phone, attrs, id, node.attrs.t ?? unixNow(), count, true));
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
  if (identity && !companion.verifiedIdentity?.equals(identity)) {
    try {
      verifyDeviceIdentity(identity, sender.accountKey.public, companion.identityKey, companion.deviceDetails);
      companion.verifiedIdentity = Buffer.from(identity);
    } catch (err) {
      world.problems.push(`message ${id}: ${(err as Error).message}`);
    }
  }

  if (to.endsWith('@g.us')) {
    await onClientGroupMessage({ world, connection }, node, sender, login.deviceId);
    return;
  }

  const recipients = new Set<Account>();
  for (const copy of copiesOf(node)) {
    const recipient = world.directory.byJid(copy.jid);
    const recipientDevice = deviceOfJid(copy.jid);
    if (!recipient || (recipientDevice !== 0 && !recipient.companions.has(recipientDevice))) {
      world.problems.push(`message ${id}: copy for unknown ${copy.jid}`);
      continue;
    }
    if (recipientDevice !== 0) {
      relayToCompanion(world, node, copy, login.deviceId, sender, recipient, recipientDevice);
      if (recipient !== sender) recipients.add(recipient);
      continue;
    }
    try {
      await deliverCopyToPhone(world, sender, login.deviceId, recipient, id, copy);
      if (recipient !== sender) recipients.add(recipient);
    } catch (err) {
      askPhoneRetry(world, connection, node, copy, sender, recipient, (err as Error).message);
    }
  }

  connection.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: unixNow() } });
  if (recipients.size > 0) {
    setTimeout(() => {
      connection.send({ tag: 'receipt', attrs: { from: to, id, t: unixNow() } });
    }, world.receiptDelayMs).unref();
  }
}

const bundleFromRetry = (receipt: BinaryNode): PreKeyBundle | undefined => {
  const keys = child(receipt, 'keys');
  const registration = childBytes(receipt, 'registration');
  const identityKey = childBytes(keys, 'identity');
  const skey = child(keys, 'skey');
  const key = child(keys, 'key');
  const skeyId = childBytes(skey, 'id');
  const skeyValue = childBytes(skey, 'value');
  const skeySignature = childBytes(skey, 'signature');
  if (!registration || !identityKey || !skeyId || !skeyValue || !skeySignature) return undefined;
  const keyId = childBytes(key, 'id');
  const keyValue = childBytes(key, 'value');
  return {
    registrationId: decodeBigEndian(registration),
    identityKey,
    signedPreKey: { keyId: decodeBigEndian(skeyId), publicKey: skeyValue, signature: skeySignature },
    ...(keyId && keyValue ? { preKey: { keyId: decodeBigEndian(keyId), publicKey: keyValue } } : {}),
  };
};

/**
 * A companion could not decrypt a phone's message: the phone starts a fresh session (from the
 * keys in the receipt, or a bundle fetched from the server) and sends the message again.
 */
async function answerRetry({ world, connection }: HandlerContext, receipt: BinaryNode): Promise<void> {
  const id = receipt.attrs.id ?? '';
  const sent = world.phoneSent.get(id);
  const login = connection.login;
  const phone = sent ? world.directory.byPn(sent.pn) : undefined;
  const bot = login ? world.directory.byPn(login.pn) : undefined;
  const companion = login ? bot?.companions.get(login.deviceId) : undefined;
  if (!sent || !phone || !bot || !companion) {
    world.problems.push(`retry receipt for unknown message ${id}`);
    return;
  }
  const retryCount = Number(child(receipt, 'retry')?.attrs.count ?? 1);
  const freshBundle = bundleFromRetry(receipt) ?? takeCompanionBundle(world, bot, companion);
  const group = sent.group ? world.groups.find(sent.group) : undefined;
  connection.send(
    group
      ? await phoneGroupRetryStanza(world, phone, group, bot, companion, id, sent, { freshBundle, retryCount })
      : await phoneStanzaFor(world, phone, bot, companion, id, sent, { freshBundle, retryCount }),
  );
}

/** Client `<receipt>`s for messages from fake phones: acknowledged, recorded, retries answered. */
async function onClientReceipt(ctx: HandlerContext, node: BinaryNode): Promise<void> {
  const { world, connection } = ctx;
  const id = node.attrs.id ?? '';
  const type = node.attrs.type ?? 'delivery';
  const ids = [id, ...children(child(node, 'list')).map((item) => item.attrs.id ?? '')];
  for (const messageId of ids) {
    const seen = world.receiptsFromCompanions.get(messageId) ?? [];
    seen.push(type);
    world.receiptsFromCompanions.set(messageId, seen);
  }
  // A retry receipt asks for the message again; any other receipt means the companion has it.
  if (type !== 'retry' && connection.login) receiptedByCompanion(world, connection.login.pn, connection.login.deviceId, ids);
  connection.send({
    tag: 'ack',
    attrs: { class: 'receipt', id, from: node.attrs.to ?? '', ...(node.attrs.type ? { type: node.attrs.type } : {}) },
  });
  if (type === 'retry') await answerRetry(ctx, node);
}

/** Messages and receipts from companions. */
export const messageHandlers: HandlerTable = {
  message: onClientMessage,
  receipt: onClientReceipt,
};
