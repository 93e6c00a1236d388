import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  bitString,
  boolean,
  contextTag,
  integer,
  objectId,
  octetString,
  pem,
  sequence,
  set,
  utcTime,
  utf8String,
} from './der.js';

/** A throw-away CA and a leaf for 127.0.0.1/localhost, generated per emulator start. */
export interface TestTls {
  /** PEM of the test CA: the only thing a client must trust. */
  readonly ca: string;
  readonly key: string;
  readonly cert: string;
}

const ECDSA_WITH_SHA256 = sequence(objectId('1.2.840.10045.4.3.2'));
const DAY_MS = 24 * 3600 * 1000;

const name = (commonName: string) => sequence(set(sequence(objectId('2.5.4.3'), utf8String(commonName))));
const extension = (oid: string, critical: boolean, value: Buffer) =>
  sequence(objectId(oid), ...(critical ? [boolean(true)] : []), octetString(value));
const keyId = (spki: Buffer) => createHash('sha1').update(spki).digest();

interface CertificateSpec {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectSpki: Buffer;
  readonly issuerSpki: Buffer;
  readonly signingKey: KeyObject;
  readonly extensions: Buffer[];
}

function certificate(spec: CertificateSpec): Buffer {
  const now = Date.now();
  const tbs = sequence(
    contextTag(0, integer(Buffer.from([2]))),
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    ECDSA_WITH_SHA256,
    name(spec.issuer),
    sequence(utcTime(new Date(now - DAY_MS)), utcTime(new Date(now + 2 * DAY_MS))),
    name(spec.subject),
    spec.subjectSpki,
    contextTag(
      3,
      sequence(
        ...spec.extensions,
        extension('2.5.29.14', false, octetString(keyId(spec.subjectSpki))),
        extension('2.5.29.35', false, sequence(contextTag(0, keyId(spec.issuerSpki), false))),
      ),
    ),
  );
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(sign('sha256', tbs, spec.signingKey)));
}

/**
 * Generates the media host's TLS material in memory: an ECDSA P-256 CA valid for two days and a
 * leaf for 127.0.0.1, ::1 and localhost. The CA private key never leaves this function.
 */
export function createTestTls(): TestTls {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leafKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caSpki = caKeys.publicKey.export({ type: 'spki', format: 'der' });
  const leafSpki = leafKeys.publicKey.export({ type: 'spki', format: 'der' });
  const caName = 'wa-sim test CA (never trust outside tests)';
  const ca = certificate({
    subject: caName,
    issuer: caName,
    subjectSpki: caSpki,
    issuerSpki: caSpki,
    signingKey: caKeys.privateKey,
    extensions: [
      extension('2.5.29.19', true, sequence(boolean(true))),
      // keyCertSign and cRLSign
      extension('2.5.29.15', true, bitString(Buffer.from([0x06]), 1)),
    ],
  });
  const leaf = certificate({
    subject: '127.0.0.1',
    issuer: caName,
    subjectSpki: leafSpki,
    issuerSpki: caSpki,
    signingKey: caKeys.privateKey,
    extensions: [
      extension('2.5.29.19', true, sequence()),
      // digitalSignature
      extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)),
      extension('2.5.29.37', false, sequence(objectId('1.3.6.1.5.5.7.3.1'))),
      extension(
        '2.5.29.17',
        false,
        sequence(
          contextTag(7, Buffer.from([127, 0, 0, 1]), false),
          contextTag(7, Buffer.concat([Buffer.alloc(15), Buffer.from([1])]), false),
          contextTag(2, Buffer.from('localhost', 'ascii'), false),
        ),
      ),
    ],
  });
  return {
    ca: pem('CERTIFICATE', ca),
    cert: pem('CERTIFICATE', leaf),
    key: leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
