import { randomBytes } from 'node:crypto';
import type { proto } from '@whiskeysockets/baileys';
import { decodeBigEndian, generateKeyPair, randomId, signalPublicKey, verifySignature } from '../crypto/primitives.js';
import { lidJid, pnJid, type CompanionDevice, type SignedPreKey } from '../directory/accounts.js';
import { SimProtocolError } from '../errors.js';
import type { ClientConnection } from '../server/client-connection.js';
import { bytesNode, child, childBytes, SERVER, unixNow } from '../server/nodes.js';
import type { World } from '../server/world.js';
import { buildAdvContainer, verifyDeviceIdentity } from './adv.js';
import { notifyDeviceChange } from './device-notifications.js';

const REF_COUNT = 6;
const QR_PREFIX = 'https://wa.me/settings/linked_devices#';

/** A client that sent registration data and waits for a phone to scan its QR. */
export interface PendingRegistration {
  readonly connection: ClientConnection;
  readonly refs: readonly string[];
  readonly noiseKey: Buffer;
  readonly identityKey: Buffer;
  readonly registrationId: number;
  readonly signedPreKey: SignedPreKey;
}

/** The fields of a pairing QR string. */
export interface ParsedQr {
  readonly ref: string;
  readonly noiseKey: Buffer;
  readonly identityKey: Buffer;
  readonly advSecret: Buffer;
  readonly platform: string;
}

/** What a successful scan linked. */
export interface PairingResult {
  readonly pn: string;
  readonly lid: string;
  readonly deviceId: number;
  /** `PN:device@s.whatsapp.net` */
  readonly jid: string;
}

export function parseQr(qr: string): ParsedQr {
  const body = qr.startsWith(QR_PREFIX) ? qr.slice(QR_PREFIX.length) : qr;
  const [ref, noise, identity, adv, platform] = body.split(',');
  if (!ref || !noise || !identity || !adv) throw new SimProtocolError('unknown-qr', 'not a WhatsApp pairing QR string');
  return {
    ref,
    noiseKey: Buffer.from(noise, 'base64'),
    identityKey: Buffer.from(identity, 'base64'),
    advSecret: Buffer.from(adv, 'base64'),
    platform: platform ?? '',
  };
}

/** Answers a registration ClientPayload: checks the signed prekey, then sends six QR refs. */
export function startRegistration(
  world: World,
  connection: ClientConnection,
  clientStaticKey: Buffer,
  pairing: proto.ClientPayload.IDevicePairingRegistrationData,
): void {
  const identityKey = Buffer.from(pairing.eIdent ?? []);
  const skeyValue = Buffer.from(pairing.eSkeyVal ?? []);
  const skeySig = Buffer.from(pairing.eSkeySig ?? []);
  if (!verifySignature(identityKey, signalPublicKey(skeyValue), skeySig)) {
    connection.send({ tag: 'failure', attrs: { reason: '401' } });
    connection.close();
    throw new SimProtocolError('bad-signature', 'registration signed prekey signature does not verify');
  }
  const refs = Array.from({ length: REF_COUNT }, () => `2@${randomBytes(32).toString('base64')}`);
  const registration: PendingRegistration = {
    connection,
    refs,
    noiseKey: clientStaticKey,
    identityKey,
    registrationId: decodeBigEndian(pairing.eRegid ?? Buffer.alloc(0)),
    signedPreKey: { keyId: decodeBigEndian(pairing.eSkeyId ?? Buffer.alloc(0)), publicKey: skeyValue, signature: skeySig },
  };
  for (const ref of refs) world.registrations.set(ref, registration);
  world.events.emit('registration', registration);
  // Not awaited: the answer arrives through this connection's node queue, which this call blocks.
  connection
    .query({
      tag: 'iq',
      attrs: { from: SERVER, type: 'set', xmlns: 'md' },
      content: [{ tag: 'pair-device', attrs: {}, content: refs.map((ref) => bytesNode('ref', Buffer.from(ref))) }],
    })
    .catch((err: unknown) => world.log.debug({ err }, 'client did not acknowledge pair-device'));
}

export function forgetRegistration(world: World, connection: ClientConnection): void {
  for (const [ref, registration] of world.registrations) {
    if (registration.connection === connection) world.registrations.delete(ref);
  }
}

/**
 * The primary phone of `pn` scans a QR: pair-success with a signed ADV container, verification of
 * the client's pair-device-sign, then stream error 515 so the client restarts and logs in.
 */
export async function scanQr(world: World, qr: string, pn: string): Promise<PairingResult> {
  const parsed = parseQr(qr);
  const registration = world.registrations.get(parsed.ref);
  if (!registration || registration.connection.closed) {
    throw new SimProtocolError('unknown-qr', 'no connected client is showing this QR ref');
  }
  if (!parsed.noiseKey.equals(registration.noiseKey) || !parsed.identityKey.equals(registration.identityKey)) {
    throw new SimProtocolError('unknown-qr', 'QR keys do not match the registering connection');
  }
  if (parsed.advSecret.length !== 32) throw new SimProtocolError('unknown-qr', 'QR advSecret is not 32 bytes');

  return completePairing(world, registration, pn, parsed.advSecret);
}

/**
 * The phone's side once it holds the advSecret (from the QR or the pairing-code exchange):
 * pair-success with a signed ADV container, verification of the client's pair-device-sign,
 * then stream error 515 so the client restarts and logs in.
 */
export async function completePairing(
  world: World,
  registration: PendingRegistration,
  pn: string,
  advSecret: Buffer,
): Promise<PairingResult> {
  const account = world.directory.ensure(pn);
  const deviceId = account.nextDeviceId++;
  const keyIndex = deviceId;
  const forge = world.faults.forgeAccountSignature;
  world.faults.forgeAccountSignature = false;
  const { container, deviceDetails } = buildAdvContainer(
    forge ? { public: account.accountKey.public, private: generateKeyPair().private } : account.accountKey,
    registration.identityKey,
    advSecret,
    deviceId,
    keyIndex,
  );
  const connection = registration.connection;
  forgetRegistration(world, connection);
  const reply = await connection.query({
    tag: 'iq',
    attrs: { from: SERVER, type: 'set', xmlns: 'md', t: unixNow() },
    content: [
      {
        tag: 'pair-success',
        attrs: {},
        content: [
          bytesNode('device-identity', container, { 'key-index': String(keyIndex) }),
          { tag: 'platform', attrs: { name: 'android' } },
          { tag: 'device', attrs: { jid: pnJid(pn, deviceId), lid: lidJid(account.lid, deviceId) } },
        ],
      },
    ],
  });
  const signedIdentity = childBytes(child(reply, 'pair-device-sign'), 'device-identity');
  if (reply.attrs.type !== 'result' || !signedIdentity) {
    connection.close();
    throw new SimProtocolError('bad-signature', 'client rejected pair-success or sent no pair-device-sign');
  }
  verifyDeviceIdentity(signedIdentity, account.accountKey.public, registration.identityKey, deviceDetails);

  const companion: CompanionDevice = {
    deviceId,
    keyIndex,
    noiseKey: registration.noiseKey,
    identityKey: registration.identityKey,
    registrationId: registration.registrationId,
    signedPreKey: registration.signedPreKey,
    preKeys: new Map(),
    deviceDetails,
    historySynced: false,
  };
  account.companions.set(deviceId, companion);
  notifyDeviceChange(world, account, 'add', deviceId);
  connection.streamError({ code: '515' });
  world.log.info({ pn, deviceId }, 'companion paired');
  return { pn, lid: account.lid, deviceId, jid: pnJid(pn, deviceId) };
}


export const newMessageId = (): string => `3EB0${randomId(9)}`;
