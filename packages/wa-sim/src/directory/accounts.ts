import { randomInt } from 'node:crypto';
import { generateKeyPair, type KeyPair } from '../crypto/primitives.js';
import { SimProtocolError } from '../errors.js';
import { createFakeDevice, type FakeDevice } from '../e2e/fake-device.js';

/** The public half of a Signal signed prekey as uploaded by a client. */
export interface SignedPreKey {
  readonly keyId: number;
  readonly publicKey: Buffer;
  readonly signature: Buffer;
}

/** A linked companion (a Baileys client) as the server knows it. */
export interface CompanionDevice {
  readonly deviceId: number;
  readonly keyIndex: number;
  /** The client's long-term noise key; a login must present it as its handshake static key. */
  readonly noiseKey: Buffer;
  /** `creds.signedIdentityKey.public`: the device's Signal identity. */
  readonly identityKey: Buffer;
  registrationId: number;
  signedPreKey: SignedPreKey;
  /** One-time prekeys uploaded and not yet handed out, by key id. */
  readonly preKeys: Map<number, Buffer>;
  /** Encoded ADVDeviceIdentity the account signed at pairing. */
  readonly deviceDetails: Buffer;
  /** Whether the primary phone already sent the initial history sync. */
  historySynced: boolean;
  /**
   * The last message `<device-identity>` that verified, byte for byte: a client sends the same
   * one with every `pkmsg`, and its two XEdDSA checks (pure JS) cost milliseconds each time.
   */
  verifiedIdentity?: Buffer;
}

/** A user of the emulated network: a phone number, a LID and a primary phone (device 0). */
export interface Account {
  /** Phone number digits, e.g. `4915112345678`. */
  readonly pn: string;
  /** LID user part (15 digits). */
  readonly lid: string;
  readonly pushName: string;
  /** Signs ADV identities; it is also the Signal identity of device 0. */
  readonly accountKey: KeyPair;
  /** The fake primary phone with real Signal state. */
  readonly primary: FakeDevice;
  readonly companions: Map<number, CompanionDevice>;
  nextDeviceId: number;
}

export const pnJid = (pn: string, device = 0): string =>
  device === 0 ? `${pn}@s.whatsapp.net` : `${pn}:${device}@s.whatsapp.net`;
export const lidJid = (lid: string, device = 0): string => (device === 0 ? `${lid}@lid` : `${lid}:${device}@lid`);

/** All accounts of the emulated network, by phone number and by LID. */
export function createDirectory() {
  const byPn = new Map<string, Account>();
  const byLid = new Map<string, Account>();

  const newLid = (): string => {
    for (;;) {
      const lid = `${randomInt(1, 10)}${String(randomInt(0, 1e7)).padStart(7, '0')}${String(randomInt(0, 1e7)).padStart(7, '0')}`;
      if (!byLid.has(lid)) return lid;
    }
  };

  return {
    /** Returns the account for a phone number, creating it (with a fresh LID and Signal state) on first use. */
    ensure(pn: string, pushName?: string): Account {
      if (!/^\d{6,15}$/.test(pn)) throw new SimProtocolError('unknown-account', `not a phone number: ${pn}`);
      const existing = byPn.get(pn);
      if (existing) return existing;
      const accountKey = generateKeyPair();
      // The primary phone's Signal state (a signed prekey: a slow pure-JS signature) is made on
      // first use: most contacts of a realistic account never send anything.
      let primary: FakeDevice | undefined;
      const account: Account = {
        pn,
        lid: newLid(),
        pushName: pushName ?? `User ${pn.slice(-4)}`,
        accountKey,
        get primary() {
          primary ??= createFakeDevice(accountKey);
          return primary;
        },
        companions: new Map(),
        nextDeviceId: 1,
      };
      byPn.set(pn, account);
      byLid.set(account.lid, account);
      return account;
    },
    byPn: (pn: string): Account | undefined => byPn.get(pn),
    byLid: (lid: string): Account | undefined => byLid.get(lid),
    /** Resolves the user part of a PN or LID jid (any device, any server). */
    byJid(jid: string): Account | undefined {
      const [userPart, server] = jid.split('@');
      const user = userPart?.split(':')[0] ?? '';
      return server === 'lid' ? byLid.get(user) : byPn.get(user);
    },
    all: (): Account[] => [...byPn.values()],
  };
}

export type Directory = ReturnType<typeof createDirectory>;
