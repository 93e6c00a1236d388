import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestTls } from './test-tls.js';

describe('test TLS material', () => {
  it('issues a leaf for 127.0.0.1 that the generated CA signed, and a CA that signed itself', () => {
    const tls = createTestTls();
    const ca = new X509Certificate(tls.ca);
    const leaf = new X509Certificate(tls.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('10.0.0.1')).toBeUndefined();
    expect(leaf.checkPrivateKey(createPrivateKey(tls.key))).toBe(true);
    expect(new Date(leaf.validTo).getTime()).toBeGreaterThan(Date.now());
  });

  it('generates fresh keys every time', () => {
    expect(createTestTls().ca).not.toBe(createTestTls().ca);
  });
});
