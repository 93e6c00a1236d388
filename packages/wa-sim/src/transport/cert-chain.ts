import { proto } from '@whiskeysockets/baileys';
import { generateKeyPair, sign, type KeyPair } from '../crypto/primitives.js';

const ROOT_SERIAL = 0;
const INTERMEDIATE_SERIAL = 1;
const LEAF_SERIAL = 2;
const VALIDITY_SECONDS = 365 * 24 * 3600;

/** The server's noise identity: its static key pair and the chain that vouches for it. */
export interface ServerIdentity {
  readonly staticKeyPair: KeyPair;
  /** Encoded `CertChain`: root → intermediate (serial 1) → leaf (serial 2, key = static key). */
  readonly certChain: Buffer;
}

/**
 * Signs a chain the way WhatsApp does: the intermediate by the root, the leaf (carrying the server
 * static key) by the intermediate, both with a validity window, so a strict verifier
 * (whatsmeow's checks, or Baileys with a real `Curve.verify`) accepts it.
 */
export function createServerIdentity(root: KeyPair, nowSeconds: number): ServerIdentity {
  const intermediate = generateKeyPair();
  const staticKeyPair = generateKeyPair();
  const details = (serial: number, issuerSerial: number, key: Buffer) =>
    Buffer.from(
      proto.CertChain.NoiseCertificate.Details.encode({
        serial,
        issuerSerial,
        key,
        notBefore: nowSeconds - 3600,
        notAfter: nowSeconds + VALIDITY_SECONDS,
      }).finish(),
    );
  const intermediateDetails = details(INTERMEDIATE_SERIAL, ROOT_SERIAL, intermediate.public);
  const leafDetails = details(LEAF_SERIAL, INTERMEDIATE_SERIAL, staticKeyPair.public);
  const certChain = Buffer.from(
    proto.CertChain.encode({
      intermediate: { details: intermediateDetails, signature: sign(root.private, intermediateDetails) },
      leaf: { details: leafDetails, signature: sign(intermediate.private, leafDetails) },
    }).finish(),
  );
  return { staticKeyPair, certChain };
}
