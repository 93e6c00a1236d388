import { describe, expect, it } from 'vitest';
import { Curve, makeNoiseHandler, NOISE_WA_HEADER, proto, WA_CERT_DETAILS, encodeBinaryNode } from '@whiskeysockets/baileys';
import { pino } from 'pino';
import { generateKeyPair, verifySignature } from '../crypto/primitives.js';
import { simNoiseRoot } from '../trust/noise-root.js';
import { createServerIdentity } from './cert-chain.js';
import { createFrameReader, encodeFrame } from './frames.js';
import { createNoiseResponder } from './noise-responder.js';

const silent = pino({ level: 'silent' });

describe('noise XX responder', () => {
  it("completes a handshake with Baileys' own noise handler and exchanges transport frames both ways", async () => {
    const identity = createServerIdentity(simNoiseRoot(), Math.floor(Date.now() / 1000));
    const responder = createNoiseResponder(identity.staticKeyPair, identity.certChain);
    const clientEphemeral = Curve.generateKeyPair();
    const noiseKey = Curve.generateKeyPair();
    const client = makeNoiseHandler({ keyPair: clientEphemeral, NOISE_HEADER: NOISE_WA_HEADER, logger: silent, routingInfo: undefined });

    const frames: Buffer[] = [];
    let routing: Buffer | undefined = Buffer.from('unset');
    const reader = createFrameReader(
      (intro) => {
        routing = intro.routingInfo;
      },
      (frame) => frames.push(frame),
    );
    reader.push(client.encodeFrame(proto.HandshakeMessage.encode({ clientHello: { ephemeral: clientEphemeral.public } }).finish()));
    expect(routing).toBeUndefined();
    const serverHello = proto.HandshakeMessage.decode(responder.respondToHello(frames.shift()!));

    const savedKey = WA_CERT_DETAILS.PUBLIC_KEY;
    WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(simNoiseRoot().public);
    let keyEnc: Uint8Array;
    try {
      keyEnc = client.processHandshake(serverHello, noiseKey);
    } finally {
      WA_CERT_DETAILS.PUBLIC_KEY = savedKey;
    }
    const payload = proto.ClientPayload.encode({ username: 4915100000001, device: 1, passive: true }).finish();
    reader.push(client.encodeFrame(proto.HandshakeMessage.encode({ clientFinish: { static: keyEnc, payload: client.encrypt(payload) } }).finish()));
    await client.finishInit();
    const result = responder.finish(frames.shift()!);
    expect(result.clientStaticKey).toEqual(noiseKey.public);
    expect(Number(result.payload.username)).toBe(4915100000001);

    reader.push(client.encodeFrame(encodeBinaryNode({ tag: 'iq', attrs: { id: '1', type: 'get', xmlns: 'w:p' } })));
    expect(result.transport.decrypt(frames.shift()!)).toEqual(encodeBinaryNode({ tag: 'iq', attrs: { id: '1', type: 'get', xmlns: 'w:p' } }));

    const received: unknown[] = [];
    await client.decodeFrame(encodeFrame(result.transport.encrypt(encodeBinaryNode({ tag: 'success', attrs: { t: '1' } }))), (node) =>
      received.push(node),
    );
    expect(received).toEqual([{ tag: 'success', attrs: { t: '1' } }]);
  });

  it('signs a chain a strict verifier accepts: intermediate by the root, leaf (the static key) by the intermediate', () => {
    const root = simNoiseRoot();
    const identity = createServerIdentity(root, 1_700_000_000);
    const chain = proto.CertChain.decode(identity.certChain);
    const intermediate = proto.CertChain.NoiseCertificate.Details.decode(chain.intermediate!.details!);
    const leaf = proto.CertChain.NoiseCertificate.Details.decode(chain.leaf!.details!);
    expect(verifySignature(root.public, chain.intermediate!.details!, chain.intermediate!.signature!)).toBe(true);
    expect(verifySignature(intermediate.key!, chain.leaf!.details!, chain.leaf!.signature!)).toBe(true);
    expect(verifySignature(generateKeyPair().public, chain.intermediate!.details!, chain.intermediate!.signature!)).toBe(false);
    expect([intermediate.issuerSerial, intermediate.serial, leaf.issuerSerial, leaf.serial]).toEqual([0, 1, 1, 2]);
    expect(Buffer.from(leaf.key!)).toEqual(identity.staticKeyPair.public);
    expect(Number(leaf.notBefore)).toBeLessThan(1_700_000_000);
    expect(Number(leaf.notAfter)).toBeGreaterThan(1_700_000_000);
  });

  it('reads the ED routing prefix before the WA header', () => {
    const seen: Array<Buffer | undefined> = [];
    const frames: Buffer[] = [];
    const reader = createFrameReader((intro) => seen.push(intro.routingInfo), (f) => frames.push(f));
    const routing = Buffer.from([1, 2, 3, 4, 5]);
    const intro = Buffer.concat([Buffer.from('ED'), Buffer.from([0, 1, 0, 0, routing.length]), routing, Buffer.from([0x57, 0x41, 6, 3])]);
    const bytes = Buffer.concat([intro, encodeFrame(Buffer.from('abc'))]);
    // Byte by byte, to prove partial input is buffered.
    for (const byte of bytes) reader.push(Buffer.from([byte]));
    expect(seen).toEqual([routing]);
    expect(frames).toEqual([Buffer.from('abc')]);
  });

  it('rejects a stream that does not start with the WA header', () => {
    const reader = createFrameReader(() => undefined, () => undefined);
    expect(() => reader.push(Buffer.from('GET / HTTP/1.1'))).toThrow(/intro header/);
  });
});
