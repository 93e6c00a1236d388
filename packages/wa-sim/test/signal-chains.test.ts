/**
 * The Signal session record stays the same size however long a conversation runs
 * (patches/libsignal@6.0.0.patch). Every turn of a conversation (a reply after the other
 * side wrote) steps the double ratchet and adds a receiving chain; libsignal-node kept all
 * of them, so a contact's session grew with every exchange: in the daemon's memory, and in
 * every write of it to the key store (issue #16's growth under traffic). The patch keeps
 * the newest five, as libsignal (Java, Rust) does. Two parties with real libsignal talk here.
 */
import { randomInt } from 'node:crypto';
import { ProtocolAddress, SessionBuilder, SessionCipher, type SessionRecord, type SignalStorage } from 'libsignal';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, sign, signalPublicKey, type KeyPair } from '../src/crypto/primitives.js';

/** How a serialized record looks (libsignal's serialize() returns this object, not bytes). */
interface SerializedRecord {
  _sessions: Record<string, { indexInfo: { closed: number }; _chains: Record<string, { chainType: number }> }>;
}

const RECEIVING = 2;

function party(name: string) {
  const identity = generateKeyPair();
  const pair = (keys: KeyPair) => ({ pubKey: signalPublicKey(keys.public), privKey: keys.private });
  const signed = generateKeyPair();
  const preKey = generateKeyPair();
  const registrationId = randomInt(1, 16380);
  const sessions = new Map<string, SessionRecord>();
  const storage: SignalStorage = {
    loadSession: (id) => Promise.resolve(sessions.get(id)),
    storeSession: (id, record) => {
      sessions.set(id, record);
      return Promise.resolve();
    },
    isTrustedIdentity: () => true,
    loadPreKey: () => Promise.resolve(pair(preKey)),
    removePreKey: () => undefined,
    loadSignedPreKey: () => pair(signed),
    getOurRegistrationId: () => registrationId,
    getOurIdentity: () => pair(identity),
  };
  const cipher = (peer: string) => new SessionCipher(storage, new ProtocolAddress(peer, 1));
  return {
    name,
    bundle: () => ({
      registrationId,
      identityKey: signalPublicKey(identity.public),
      signedPreKey: { keyId: 1, publicKey: signalPublicKey(signed.public), signature: sign(identity.private, signalPublicKey(signed.public)) },
      preKey: { keyId: 1, publicKey: signalPublicKey(preKey.public) },
    }),
    startSession: (peer: string, bundle: Parameters<SessionBuilder['initOutgoing']>[0]) => new SessionBuilder(storage, new ProtocolAddress(peer, 1)).initOutgoing(bundle),
    encrypt: (peer: string, text: string) => cipher(peer).encrypt(Buffer.from(text)),
    async decrypt(peer: string, message: { type: number; body: string }): Promise<string> {
      const bytes = Buffer.from(message.body, 'binary');
      const plain = message.type === 3 ? await cipher(peer).decryptPreKeyWhisperMessage(bytes) : await cipher(peer).decryptWhisperMessage(bytes);
      return plain.toString();
    },
    /** The open session's receiving chains and the record's size as the key store would write it. */
    record(peer: string): { receiving: number; bytes: number } {
      const record = sessions.get(`${peer}.1`);
      if (!record) throw new Error(`${name} has no session with ${peer}`);
      const serialized = record.serialize() as unknown as SerializedRecord;
      const open = Object.values(serialized._sessions).find((session) => session.indexInfo.closed === -1);
      const receiving = Object.values(open?._chains ?? {}).filter((chain) => chain.chainType === RECEIVING).length;
      return { receiving, bytes: JSON.stringify(serialized).length };
    },
  };
}

describe('libsignal session records under a long conversation', () => {
  it('keep the newest five receiving chains: the record stops growing, and every message still decrypts', async () => {
    const alice = party('alice');
    const bob = party('bob');
    await alice.startSession('bob', bob.bundle());
    const sizes: number[] = [];
    const chains: number[] = [];
    for (let turn = 1; turn <= 30; turn++) {
      // Each side writes once a turn: every message starts a new ratchet step on the other side.
      expect(await bob.decrypt('alice', await alice.encrypt('bob', `ping ${turn}`))).toBe(`ping ${turn}`);
      expect(await alice.decrypt('bob', await bob.encrypt('alice', `pong ${turn}`))).toBe(`pong ${turn}`);
      const record = bob.record('alice');
      chains.push(record.receiving);
      sizes.push(record.bytes);
    }
    // Filled past the bound and held there (without the patch: one more chain a turn, 30 at the end).
    expect(Math.max(...chains)).toBe(5);
    expect(chains.slice(4)).toEqual(Array(26).fill(5));
    expect(alice.record('bob').receiving).toBe(5);
    // Same size after 10 turns as after 30 (keys differ in their base64 length by a byte or two at most).
    expect(Math.abs(sizes[29]! - sizes[9]!)).toBeLessThan(16);
  });

  it('still decrypts a late message from one of the five newest chains', async () => {
    const alice = party('alice');
    const bob = party('bob');
    await alice.startSession('bob', bob.bundle());
    expect(await bob.decrypt('alice', await alice.encrypt('bob', 'hello'))).toBe('hello');
    // Alice's second message is held back (the network delays it) while three more turns run.
    const late = await alice.encrypt('bob', 'late');
    for (let turn = 1; turn <= 3; turn++) {
      expect(await alice.decrypt('bob', await bob.encrypt('alice', `pong ${turn}`))).toBe(`pong ${turn}`);
      expect(await bob.decrypt('alice', await alice.encrypt('bob', `ping ${turn}`))).toBe(`ping ${turn}`);
    }
    expect(bob.record('alice').receiving).toBe(4);
    expect(await bob.decrypt('alice', late)).toBe('late');
  });
});
