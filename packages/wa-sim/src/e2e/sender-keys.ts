// Baileys ships the Signal group cipher (sender keys) in its own tree, not in libsignal; the
// package has no `exports` map, so the emulator uses the very implementation the client runs.
import {
  GroupCipher,
  GroupSessionBuilder,
  SenderKeyDistributionMessage,
  SenderKeyName,
  SenderKeyRecord,
} from '@whiskeysockets/baileys/lib/Signal/Group/index.js';

/**
 * The sender-key state of one fake phone: its own chain per group (to send `skmsg`) and the
 * chains other devices distributed to it (to decrypt theirs). Senders are named
 * `user.device`, the emulator's own choice: only this store sees the names.
 */
export function createSenderKeyStore() {
  const records = new Map<string, SenderKeyRecord>();
  const store = {
    loadSenderKey: (name: SenderKeyName) => Promise.resolve(records.get(name.toString()) ?? new SenderKeyRecord()),
    storeSenderKey: (name: SenderKeyName, record: SenderKeyRecord) => {
      records.set(name.toString(), record);
      return Promise.resolve();
    },
  };
  const keyName = (groupJid: string, sender: string): SenderKeyName => {
    const dot = sender.lastIndexOf('.');
    return new SenderKeyName(groupJid, { id: sender.slice(0, dot), deviceId: Number(sender.slice(dot + 1)), toString: () => sender });
  };

  return {
    /** The distribution message for this device's own chain in a group (created on first use). */
    async ownDistribution(groupJid: string, self: string): Promise<Uint8Array> {
      const skdm = await new GroupSessionBuilder(store).create(keyName(groupJid, self));
      return skdm.serialize();
    },
    /** Encrypts padded plaintext with this device's own chain (`skmsg` content). */
    async encrypt(groupJid: string, self: string, paddedPlaintext: Uint8Array): Promise<Buffer> {
      await new GroupSessionBuilder(store).create(keyName(groupJid, self));
      return Buffer.from(await new GroupCipher(store, keyName(groupJid, self)).encrypt(paddedPlaintext));
    },
    /** Forgets this device's own chain in a group, so the next send distributes a fresh one (after a member left). */
    rotate(groupJid: string, self: string): void {
      records.delete(keyName(groupJid, self).toString());
    },
    /** Stores a chain another device distributed (`axolotlSenderKeyDistributionMessage`). */
    async process(groupJid: string, sender: string, distribution: Uint8Array): Promise<void> {
      const message = new SenderKeyDistributionMessage(null, null, null, null, distribution);
      await new GroupSessionBuilder(store).process(keyName(groupJid, sender), message);
    },
    /** Whether a chain from `sender` in the group is known. */
    has: (groupJid: string, sender: string): boolean => {
      const record = records.get(keyName(groupJid, sender).toString());
      return record !== undefined && !record.isEmpty();
    },
    async decrypt(groupJid: string, sender: string, ciphertext: Uint8Array): Promise<Buffer> {
      return Buffer.from(await new GroupCipher(store, keyName(groupJid, sender)).decrypt(ciphertext));
    },
  };
}

export type SenderKeyStore = ReturnType<typeof createSenderKeyStore>;
