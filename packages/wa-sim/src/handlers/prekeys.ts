import type { BinaryNode } from '@whiskeysockets/baileys';
import { decodeBigEndian, encodeBigEndian, KEY_TYPE_DJB, verifySignature, signalPublicKey } from '../crypto/primitives.js';
import type { Account, CompanionDevice } from '../directory/accounts.js';
import { newMessageId } from '../pairing/qr-pairing.js';
import { deviceKey, type World } from '../server/world.js';
import type { PreKeyBundle } from '../e2e/fake-device.js';
import type { HandlerContext, HandlerTable } from '../server/router.js';
import { bytesNode, child, childBytes, children, iqError, iqResult, unixNow } from '../server/nodes.js';

const companionOf = ({ world, connection }: HandlerContext): CompanionDevice | undefined => {
  const login = connection.login;
  return login ? world.directory.byPn(login.pn)?.companions.get(login.deviceId) : undefined;
};

const readSignedPreKey = (skey: BinaryNode | undefined) => {
  const keyId = childBytes(skey, 'id');
  const publicKey = childBytes(skey, 'value');
  const signature = childBytes(skey, 'signature');
  return keyId && publicKey && signature ? { keyId: decodeBigEndian(keyId), publicKey, signature } : undefined;
};

// Baileys uploads more prekeys when told the server holds fewer than this (its MIN_PREKEY_COUNT).
const PREKEY_LOW_THRESHOLD = 5;

/**
 * Hands out one of a companion's uploaded one-time prekeys and deletes it, as the server does.
 * When few remain, the companion gets an `encrypt` notification with the count (prekey-low).
 */
export function takeCompanionBundle(world: World, account: Account, companion: CompanionDevice): PreKeyBundle {
  const bundle = takeBundle(companion);
  if (companion.preKeys.size < PREKEY_LOW_THRESHOLD) {
    // The `from` must decode to Baileys' S_WHATSAPP_NET ('@s.whatsapp.net') for it to act.
    world.online.get(deviceKey(account.pn, companion.deviceId))?.send({
      tag: 'notification',
      attrs: { from: '@s.whatsapp.net', id: newMessageId(), type: 'encrypt', t: unixNow() },
      content: [{ tag: 'count', attrs: { value: String(companion.preKeys.size) } }],
    });
  }
  return bundle;
}

function takeBundle(companion: CompanionDevice): PreKeyBundle {
  const first = companion.preKeys.entries().next();
  let preKey: PreKeyBundle['preKey'];
  if (!first.done) {
    const [keyId, publicKey] = first.value;
    companion.preKeys.delete(keyId);
    preKey = { keyId, publicKey };
  }
  return {
    registrationId: companion.registrationId,
    identityKey: companion.identityKey,
    signedPreKey: companion.signedPreKey,
    ...(preKey ? { preKey } : {}),
  };
}

/** A bundle's keys as WhatsApp nodes carry them: `type`, `identity`, `skey` and the one-time `key` if any. */
const keyNodes = (bundle: PreKeyBundle): BinaryNode[] => [
  bytesNode('type', KEY_TYPE_DJB),
  bytesNode('identity', bundle.identityKey),
  {
    tag: 'skey',
    attrs: {},
    content: [
      bytesNode('id', encodeBigEndian(bundle.signedPreKey.keyId, 3)),
      bytesNode('value', bundle.signedPreKey.publicKey),
      bytesNode('signature', bundle.signedPreKey.signature),
    ],
  },
  ...(bundle.preKey
    ? [{ tag: 'key', attrs: {}, content: [bytesNode('id', encodeBigEndian(bundle.preKey.keyId, 3)), bytesNode('value', bundle.preKey.publicKey)] }]
    : []),
];

const bundleNode = (jid: string, bundle: PreKeyBundle): BinaryNode => ({
  tag: 'user',
  attrs: { jid },
  content: [bytesNode('registration', encodeBigEndian(bundle.registrationId, 4)), ...keyNodes(bundle)],
});

/**
 * A fake phone's retry receipt for the message `id` (sent at `t`, the `count`th): with a fresh
 * prekey bundle the sender starts a new session from (`withKeys`), else only the phone's
 * registration id (the sender keeps its session, e.g. to distribute a sender key again).
 */
export function phoneRetryReceipt(phone: Account, attrs: Record<string, string>, id: string, t: string, count: number, withKeys: boolean): BinaryNode {
  const bundle = withKeys ? phone.primary.takeBundle() : undefined;
  return {
    tag: 'receipt',
    attrs: { ...attrs, id, type: 'retry', t: unixNow() },
    content: [
      { tag: 'retry', attrs: { count: String(count), id, t, v: '1' } },
      bytesNode('registration', encodeBigEndian(phone.primary.registrationId, 4)),
      ...(bundle ? [{ tag: 'keys', attrs: {}, content: keyNodes(bundle) }] : []),
    ],
  };
}

/** `encrypt` iqs: prekey count, upload, digest, signed-prekey rotation and key-bundle fetch. */
export const prekeyHandlers: HandlerTable = {
  'iq encrypt get count': (ctx, iq) => {
    const count = companionOf(ctx)?.preKeys.size ?? 0;
    ctx.connection.send(iqResult(iq, [{ tag: 'count', attrs: { value: String(count) } }]));
  },
  'iq encrypt set registration': (ctx, iq) => {
    const companion = companionOf(ctx);
    const signedPreKey = readSignedPreKey(child(iq, 'skey'));
    const identity = childBytes(iq, 'identity');
    if (!companion || !signedPreKey || !identity?.equals(companion.identityKey)) {
      ctx.connection.send(iqError(iq, 406, 'not-acceptable'));
      return;
    }
    if (!verifySignature(companion.identityKey, signalPublicKey(signedPreKey.publicKey), signedPreKey.signature)) {
      ctx.connection.send(iqError(iq, 406, 'bad-signature'));
      return;
    }
    companion.registrationId = decodeBigEndian(childBytes(iq, 'registration') ?? Buffer.alloc(0));
    companion.signedPreKey = signedPreKey;
    for (const key of children(child(iq, 'list'))) {
      const id = childBytes(key, 'id');
      const value = childBytes(key, 'value');
      if (id && value) companion.preKeys.set(decodeBigEndian(id), value);
    }
    ctx.connection.send(iqResult(iq));
  },
  'iq encrypt set rotate': (ctx, iq) => {
    const companion = companionOf(ctx);
    const signedPreKey = readSignedPreKey(child(child(iq, 'rotate'), 'skey'));
    if (!companion || !signedPreKey) {
      ctx.connection.send(iqError(iq, 406, 'not-acceptable'));
      return;
    }
    companion.signedPreKey = signedPreKey;
    ctx.connection.send(iqResult(iq));
  },
  'iq encrypt get digest': (ctx, iq) => {
    const companion = companionOf(ctx);
    if (!companion) {
      ctx.connection.send(iqError(iq, 404, 'item-not-found'));
      return;
    }
    ctx.connection.send(
      iqResult(iq, [
        {
          tag: 'digest',
          attrs: {},
          content: [
            bytesNode('type', KEY_TYPE_DJB),
            bytesNode('identity', companion.identityKey),
            bytesNode('registration', encodeBigEndian(companion.registrationId, 4)),
            {
              tag: 'list',
              attrs: {},
              content: [...companion.preKeys.keys()].map((id) => bytesNode('id', encodeBigEndian(id, 3))),
            },
          ],
        },
      ]),
    );
  },
  'iq encrypt get key': ({ world, connection }, iq) => {
    const users = children(child(iq, 'key')).map((user): BinaryNode => {
      const jid = user.attrs.jid ?? '';
      const account = world.directory.byJid(jid);
      const deviceId = Number(jid.split('@')[0]?.split(':')[1] ?? 0);
      const companion = account?.companions.get(deviceId);
      if (account && deviceId === 0) return bundleNode(jid, account.primary.takeBundle());
      if (account && companion) return bundleNode(jid, takeCompanionBundle(world, account, companion));
      return { tag: 'user', attrs: { jid }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] };
    });
    connection.send(iqResult(iq, [{ tag: 'list', attrs: {}, content: users }]));
  },
};
