import { afterEach, describe, expect, it } from 'vitest';
import { Curve, WA_CERT_DETAILS } from '@whiskeysockets/baileys';
import {
  assertSafeWaUrl,
  isEmulatorRootTrusted,
  restoreWhatsAppNoiseRoot,
  startSim,
  trustEmulatorNoiseRoot,
  useStrictSignatureVerification,
} from '../src/index.js';
import { createTestClient } from './support/baileys-client.js';

const LOOPBACK = 'ws://127.0.0.1:1234/ws/chat';
const OPT_IN = { iUnderstandThisDisablesWhatsAppServerAuth: true } as const;
const WHATSAPP_KEY = Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY);
const savedEnv = { trust: process.env.WA_SIM_TRUST_KEY, nodeEnv: process.env.NODE_ENV };

/** A client connecting to a fresh emulator without the override is closed (400) before any QR. */
async function expectChainRejected(): Promise<void> {
  await using sim = await startSim();
  const client = await createTestClient(sim);
  try {
    const qrs: string[] = [];
    client.on('connection.update', (u) => {
      if (u.qr) qrs.push(u.qr);
    });
    const closed = await client.waitClosed();
    expect(closed.statusCode).toBe(400);
    expect(qrs).toEqual([]);
  } finally {
    await client.end();
  }
}

const setEnv = (name: string, value: string | undefined) => {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
};

describe('the guarded noise-root trust override', () => {
  afterEach(() => {
    restoreWhatsAppNoiseRoot();
    setEnv('WA_SIM_TRUST_KEY', savedEnv.trust);
    setEnv('NODE_ENV', savedEnv.nodeEnv);
  });

  it('refuses without WA_SIM_TRUST_KEY=1, in production and for non-loopback urls, leaving the WhatsApp key alone', () => {
    setEnv('WA_SIM_TRUST_KEY', undefined);
    expect(() => trustEmulatorNoiseRoot(LOOPBACK, OPT_IN)).toThrow(/WA_SIM_TRUST_KEY/);
    setEnv('WA_SIM_TRUST_KEY', '1');
    setEnv('NODE_ENV', 'production');
    expect(() => trustEmulatorNoiseRoot(LOOPBACK, OPT_IN)).toThrow(/production/);
    setEnv('NODE_ENV', 'test');
    expect(() => trustEmulatorNoiseRoot('wss://web.whatsapp.com/ws/chat', OPT_IN)).toThrow(/non-loopback/);
    expect(() => trustEmulatorNoiseRoot('ws://10.0.0.5:80/ws/chat', OPT_IN)).toThrow(/non-loopback/);
    expect(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY)).toEqual(WHATSAPP_KEY);
    expect(isEmulatorRootTrusted()).toBe(false);
  });

  it('latches: while trusted, non-loopback urls are refused; restoring puts the WhatsApp key back', () => {
    setEnv('WA_SIM_TRUST_KEY', '1');
    trustEmulatorNoiseRoot(LOOPBACK, OPT_IN);
    expect(isEmulatorRootTrusted()).toBe(true);
    expect(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY)).not.toEqual(WHATSAPP_KEY);
    expect(() => assertSafeWaUrl('wss://web.whatsapp.com/ws/chat')).toThrow(/refusing/);
    expect(() => assertSafeWaUrl(LOOPBACK)).not.toThrow();
    restoreWhatsAppNoiseRoot();
    expect(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY)).toEqual(WHATSAPP_KEY);
    expect(() => assertSafeWaUrl('wss://web.whatsapp.com/ws/chat')).not.toThrow();
  });

  it('is required: a verifying client rejects the emulator chain without it', async () => {
    const restoreVerify = useStrictSignatureVerification();
    try {
      await expectChainRejected();
    } finally {
      restoreVerify();
    }
  });
});

describe('forged ADV account signatures', () => {
  afterEach(() => {
    restoreWhatsAppNoiseRoot();
    setEnv('WA_SIM_TRUST_KEY', savedEnv.trust);
  });

  const pairWithForgedSignature = async () => {
    const sim = await startSim();
    setEnv('WA_SIM_TRUST_KEY', '1');
    trustEmulatorNoiseRoot(sim.url, OPT_IN);
    const client = await createTestClient(sim);
    const qr = await client.nextQr();
    sim.faults.forgeNextAccountSignature();
    const pairing = sim.scanQr(qr, { phone: '4915100000055' }).then(
      () => 'paired',
      (err: Error) => err.message,
    );
    return { sim, client, pairing };
  };

  it('are refused by a verifying client: no device is linked', async () => {
    const restoreVerify = useStrictSignatureVerification();
    const { sim, client, pairing } = await pairWithForgedSignature();
    try {
      expect(await pairing).toMatch(/closed before answering|rejected pair-success/);
      expect(sim.account('4915100000055').companions.size).toBe(0);
    } finally {
      await client.end();
      await sim.close();
      restoreVerify();
    }
  });

  // Stock rc14's Curve.verify ignored libsignal's result and accepted this; the pnpm patch
  // of Baileys (patches/, patchedDependencies) makes the unmodified client refuse it.
  it('are refused by the patched Baileys without any test override: no device is linked', async () => {
    const { sim, client, pairing } = await pairWithForgedSignature();
    try {
      expect(await pairing).toMatch(/closed before answering|rejected pair-success/);
      expect(sim.account('4915100000055').companions.size).toBe(0);
    } finally {
      await client.end();
      await sim.close();
    }
  });
});

describe('the patched Baileys Curve.verify (production signature check)', () => {
  it('returns false for a forged signature and true for a real one', () => {
    const pair = Curve.generateKeyPair();
    const message = Buffer.from('server certificate details');
    const signature = Buffer.from(Curve.sign(pair.private, message));
    expect(Curve.verify(pair.public, message, signature)).toBe(true);
    const forged = Buffer.from(signature);
    forged[5] = (forged[5] ?? 0) ^ 0xff;
    expect(Curve.verify(pair.public, message, forged)).toBe(false);
    expect(Curve.verify(pair.public, Buffer.from('another message'), signature)).toBe(false);
  });

  it('makes the unmodified client reject the emulator certificate chain (a forged WhatsApp chain) without the override', async () => {
    await expectChainRejected();
  });
});
