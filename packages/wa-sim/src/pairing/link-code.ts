import { createCipheriv, createDecipheriv, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { BinaryNode } from '@whiskeysockets/baileys';
import { aesGcmDecrypt, generateKeyPair, hkdf, sharedSecret, type KeyPair } from '../crypto/primitives.js';
import { SimProtocolError } from '../errors.js';
import type { HandlerContext, HandlerTable } from '../server/router.js';
import { bytesNode, child, childBytes, iqError, iqResult, SERVER, unixNow } from '../server/nodes.js';
import type { World } from '../server/world.js';
import { completePairing, newMessageId, type PairingResult, type PendingRegistration } from './qr-pairing.js';

const derive = promisify(pbkdf2);
const PBKDF2_ITERATIONS = 2 << 16;

/** A client's `requestPairingCode` waiting for the phone to enter the code. */
export interface LinkCodeRequest {
  readonly pn: string;
  readonly registration: PendingRegistration;
  readonly ref: Buffer;
  readonly wrappedCompanionEphemeral: Buffer;
  primary?: {
    readonly ephemeral: KeyPair;
    readonly companionEphemeral: Buffer;
    readonly resolve: (result: PairingResult) => void;
    readonly reject: (err: unknown) => void;
  };
}

const codeKey = (code: string, salt: Buffer): Promise<Buffer> => derive(Buffer.from(code, 'utf8'), salt, PBKDF2_ITERATIONS, 32, 'sha256');

/** `salt(32) ‖ iv(16) ‖ AES-256-CTR(key = PBKDF2(code, salt), pub)`, both directions. */
async function unwrapEphemeral(code: string, wrapped: Buffer): Promise<Buffer> {
  const key = await codeKey(code, wrapped.subarray(0, 32));
  const decipher = createDecipheriv('aes-256-ctr', key, wrapped.subarray(32, 48));
  return Buffer.concat([decipher.update(wrapped.subarray(48, 80)), decipher.final()]);
}

async function wrapEphemeral(code: string, pub: Buffer): Promise<Buffer> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', await codeKey(code, salt), iv);
  return Buffer.concat([salt, iv, cipher.update(pub), cipher.final()]);
}

const registrationOf = (world: World, ctx: HandlerContext): PendingRegistration | undefined =>
  [...world.registrations.values()].find((r) => r.connection === ctx.connection);

function onCompanionHello(ctx: HandlerContext, iq: BinaryNode, reg: BinaryNode): void {
  const registration = registrationOf(ctx.world, ctx);
  const wrapped = childBytes(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub');
  const pn = (reg.attrs.jid ?? '').split('@')[0] ?? '';
  if (!registration || !wrapped || wrapped.length !== 80 || !/^\d+$/.test(pn)) {
    ctx.connection.send(iqError(iq, 400, 'bad-request'));
    return;
  }
  const ref = randomBytes(20);
  ctx.world.linkCodes.set(pn, { pn, registration, ref, wrappedCompanionEphemeral: wrapped });
  ctx.world.events.emit('linkCodeRequest', pn);
  ctx.connection.send(
    iqResult(iq, [{ tag: 'link_code_companion_reg', attrs: {}, content: [bytesNode('link_code_pairing_ref', ref)] }]),
  );
}

function onCompanionFinish(ctx: HandlerContext, iq: BinaryNode, reg: BinaryNode): void {
  const { world } = ctx;
  const ref = childBytes(reg, 'link_code_pairing_ref');
  const request = [...world.linkCodes.values()].find((r) => ref && r.ref.equals(ref));
  const bundle = childBytes(reg, 'link_code_pairing_wrapped_key_bundle');
  const primary = request?.primary;
  if (!request || !primary || !bundle) {
    ctx.connection.send(iqError(iq, 400, 'bad-request'));
    return;
  }
  world.linkCodes.delete(request.pn);
  const account = world.directory.ensure(request.pn);
  try {
    const companionShared = sharedSecret(primary.ephemeral.private, primary.companionEphemeral);
    const key = hkdf(companionShared, 32, bundle.subarray(0, 32), Buffer.from('link_code_pairing_key_bundle_encryption_key'));
    const payload = aesGcmDecrypt(key, bundle.subarray(32, 44), bundle.subarray(44), Buffer.alloc(0));
    const companionIdentity = payload.subarray(0, 32);
    const primaryIdentity = payload.subarray(32, 64);
    const random = payload.subarray(64, 96);
    if (!companionIdentity.equals(request.registration.identityKey) || !primaryIdentity.equals(account.accountKey.public)) {
      throw new SimProtocolError('bad-signature', 'pairing key bundle names the wrong identities');
    }
    const identityShared = sharedSecret(account.accountKey.private, companionIdentity);
    const advSecret = hkdf(Buffer.concat([companionShared, identityShared, random]), 32, undefined, Buffer.from('adv_secret'));
    ctx.connection.send(iqResult(iq));
    // Not awaited: pair-success is answered through this connection's node queue.
    completePairing(world, request.registration, request.pn, advSecret).then(primary.resolve, primary.reject);
  } catch (err) {
    ctx.connection.send(iqError(iq, 401, 'not-authorized'));
    primary.reject(new SimProtocolError('bad-signature', 'pairing code exchange failed (wrong code?)', { cause: err }));
  }
}

/** `link_code_companion_reg`: the companion side of pairing-code login. */
export const linkCodeHandlers: HandlerTable = {
  'iq md set link_code_companion_reg': (ctx, iq) => {
    const reg = child(iq, 'link_code_companion_reg');
    if (reg?.attrs.stage === 'companion_hello') onCompanionHello(ctx, iq, reg);
    else if (reg?.attrs.stage === 'companion_finish') onCompanionFinish(ctx, iq, reg);
    else ctx.connection.send(iqError(iq, 400, 'bad-request'));
  },
};

const waitForRequest = (world: World, pn: string, timeoutMs: number): Promise<void> =>
  new Promise((resolve) => {
    const onRequest = (requested: string) => {
      if (requested !== pn) return;
      clearTimeout(timer);
      world.events.off('linkCodeRequest', onRequest);
      resolve();
    };
    const timer = setTimeout(() => {
      world.events.off('linkCodeRequest', onRequest);
      resolve();
    }, timeoutMs);
    world.events.on('linkCodeRequest', onRequest);
  });

/**
 * The primary phone of `pn` enters the 8-character code the client shows: the phone's wrapped
 * ephemeral key goes to the client, which answers with its key bundle; pairing then completes
 * like a QR scan. Resolves once the client has signed the device identity.
 */
export async function enterPairingCode(world: World, code: string, pn: string, timeoutMs = 10_000): Promise<PairingResult> {
  // requestPairingCode does not wait for the server, so the request may still be in flight.
  if (!world.linkCodes.has(pn)) await waitForRequest(world, pn, timeoutMs);
  const request = world.linkCodes.get(pn);
  if (!request || request.registration.connection.closed) {
    throw new SimProtocolError('unknown-qr', `no client asked for a pairing code for ${pn}`);
  }
  const account = world.directory.ensure(pn);
  const companionEphemeral = await unwrapEphemeral(code, request.wrappedCompanionEphemeral);
  const ephemeral = generateKeyPair();
  const wrappedPrimary = await wrapEphemeral(code, ephemeral.public);
  return new Promise<PairingResult>((resolve, reject) => {
    request.primary = { ephemeral, companionEphemeral, resolve, reject };
    request.registration.connection.send({
      tag: 'notification',
      attrs: { from: SERVER, id: newMessageId(), type: 'link_code_companion_reg', t: unixNow() },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: { stage: 'primary_hello' },
          content: [
            bytesNode('link_code_pairing_ref', request.ref),
            bytesNode('primary_identity_pub', account.accountKey.public),
            bytesNode('link_code_pairing_wrapped_primary_ephemeral_pub', wrappedPrimary),
          ],
        },
      ],
    });
  });
}
