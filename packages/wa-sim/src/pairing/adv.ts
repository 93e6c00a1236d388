import { proto } from '@whiskeysockets/baileys';
import { hmacSha256, sign, verifySignature, type KeyPair } from '../crypto/primitives.js';
import { SimProtocolError } from '../errors.js';

const ACCOUNT_SIGNATURE_PREFIX = Buffer.from([6, 0]);
const DEVICE_SIGNATURE_PREFIX = Buffer.from([6, 1]);

/** The pair-success `<device-identity>` content and the details it signs. */
export interface AdvContainer {
  /** Encoded ADVSignedDeviceIdentityHMAC. */
  readonly container: Buffer;
  /** Encoded ADVDeviceIdentity. */
  readonly deviceDetails: Buffer;
}

/**
 * Builds what the primary phone sends to a new companion: device details signed by the account
 * key over `06 00 ‖ details ‖ companionIdentity`, wrapped in an HMAC keyed by the QR's advSecret.
 */
export function buildAdvContainer(
  accountKey: KeyPair,
  companionIdentity: Buffer,
  advSecret: Buffer,
  deviceId: number,
  keyIndex: number,
): AdvContainer {
  const deviceDetails = Buffer.from(
    proto.ADVDeviceIdentity.encode({
      rawId: deviceId,
      timestamp: Math.floor(Date.now() / 1000),
      keyIndex,
      accountType: proto.ADVEncryptionType.E2EE,
      deviceType: proto.ADVEncryptionType.E2EE,
    }).finish(),
  );
  const accountSignature = sign(accountKey.private, Buffer.concat([ACCOUNT_SIGNATURE_PREFIX, deviceDetails, companionIdentity]));
  const signed = Buffer.from(
    proto.ADVSignedDeviceIdentity.encode({ details: deviceDetails, accountSignatureKey: accountKey.public, accountSignature }).finish(),
  );
  const container = Buffer.from(
    proto.ADVSignedDeviceIdentityHMAC.encode({
      details: signed,
      hmac: hmacSha256(advSecret, signed),
      accountType: proto.ADVEncryptionType.E2EE,
    }).finish(),
  );
  return { container, deviceDetails };
}

/**
 * Checks a companion's ADVSignedDeviceIdentity (from `pair-device-sign` or a message's
 * `<device-identity>`): the account signature by the account key and the device signature
 * `06 01 ‖ details ‖ identity ‖ accountKey` by the companion's identity key.
 */
export function verifyDeviceIdentity(
  encoded: Uint8Array,
  accountPublicKey: Buffer,
  companionIdentity: Buffer,
  expectedDetails?: Buffer,
): proto.ADVDeviceIdentity {
  const signed = proto.ADVSignedDeviceIdentity.decode(encoded);
  const details = Buffer.from(signed.details ?? []);
  if (expectedDetails && !details.equals(expectedDetails)) {
    throw new SimProtocolError('bad-signature', 'device identity details differ from what the phone signed');
  }
  if (signed.accountSignature) {
    const accountMessage = Buffer.concat([ACCOUNT_SIGNATURE_PREFIX, details, companionIdentity]);
    if (!verifySignature(accountPublicKey, accountMessage, signed.accountSignature)) {
      throw new SimProtocolError('bad-signature', 'account signature does not verify');
    }
  }
  const deviceMessage = Buffer.concat([DEVICE_SIGNATURE_PREFIX, details, companionIdentity, accountPublicKey]);
  if (!signed.deviceSignature || !verifySignature(companionIdentity, deviceMessage, signed.deviceSignature)) {
    throw new SimProtocolError('bad-signature', 'device signature does not verify');
  }
  return proto.ADVDeviceIdentity.decode(details);
}
