import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { LT_HASH_ANTI_TAMPERING, proto, type WAPatchName } from '@whiskeysockets/baileys';
import { lidJid, pnJid, type Account } from '../directory/accounts.js';
import { memberJid, type Group } from '../directory/groups.js';
import { newMessageId } from '../pairing/qr-pairing.js';

/** One history-sync notification's payload, as the primary phone sends it inline. */
export interface HistoryChunk {
  readonly syncType: proto.HistorySync.HistorySyncType;
  readonly chunkOrder: number;
  readonly progress: number;
  /** zlib-deflated `HistorySync` protobuf (`initialHistBootstrapInlinePayload`). */
  readonly payload: Buffer;
}

/** An app-state sync key the primary phone shares with its companions. */
export interface AppStateKey {
  /** `AppStateSyncKeyId.keyId`; base64 of it is Baileys' `myAppStateKeyId`. */
  readonly keyId: Buffer;
  readonly keyData: proto.Message.IAppStateSyncKeyData;
}

/**
 * What a real account brings to a freshly linked companion: the key share, the history sync
 * chunks (chats, messages, push names, LID mappings) and the app-state patches of each
 * collection (encoded `SyncdPatch` protobufs, versions 1..n, MACs made with the shared key).
 */
export interface AccountContent {
  readonly appStateKey: AppStateKey;
  readonly history: readonly HistoryChunk[];
  readonly appState: ReadonlyMap<WAPatchName, readonly Buffer[]>;
}

/** What {@link buildAccountContent} builds the content from. */
export interface ContentSource {
  readonly bot: Account;
  readonly contacts: readonly Account[];
  readonly groups: readonly Group[];
  /** How many history messages in all, spread over the 1:1 chats and the groups. */
  readonly historyMessages: number;
  /** Unix seconds "now"; history runs back from here. */
  readonly now: number;
}

const HistoryType = proto.HistorySync.HistorySyncType;
const CHUNK_MESSAGES = 500;

const deflate = (sync: proto.IHistorySync): Buffer => deflateSync(proto.HistorySync.encode(sync).finish());

/** The history: INITIAL_BOOTSTRAP (LID mappings, the newest chats), RECENT chunks of up to 500 messages, then PUSH_NAME. */
function buildHistory({ bot, contacts, groups, historyMessages, now }: ContentSource): HistoryChunk[] {
  // A third of the contacts have a 1:1 chat with messages, as on a real phone.
  const direct = contacts.slice(0, Math.max(1, Math.ceil(contacts.length / 3)));
  const chats = [
    ...direct.map((contact) => ({ id: lidJid(contact.lid), pnJid: pnJid(contact.pn), name: undefined as string | undefined, members: [contact], group: undefined as Group | undefined })),
    ...groups.map((group) => ({ id: group.jid, pnJid: undefined, name: group.subject, members: [...group.members.values()].map((m) => m.account).filter((a) => a !== bot), group })),
  ];
  const perChat = new Map<string, proto.IHistorySyncMsg[]>();
  for (let i = 0; i < historyMessages && chats.length > 0; i++) {
    const chat = chats[i % chats.length];
    if (!chat) continue;
    const fromMe = i % 4 === 0;
    const sender = chat.members[i % Math.max(1, chat.members.length)] ?? bot;
    const timestamp = now - (historyMessages - i) * 60;
    const message: proto.IWebMessageInfo = {
      key: {
        remoteJid: chat.id,
        fromMe,
        id: newMessageId(),
        ...(chat.group && !fromMe ? { participant: memberJid(chat.group, sender) } : {}),
      },
      messageTimestamp: timestamp,
      message: { conversation: `history message ${i} in ${chat.name ?? 'a chat'}` },
      ...(fromMe ? { status: proto.WebMessageInfo.Status.READ } : { pushName: sender.pushName, status: proto.WebMessageInfo.Status.DELIVERY_ACK }),
    };
    const list = perChat.get(chat.id) ?? [];
    list.push({ message, msgOrderId: i + 1 });
    perChat.set(chat.id, list);
  }
  const conversation = (chat: (typeof chats)[number], messages: proto.IHistorySyncMsg[]): proto.IConversation => ({
    id: chat.id,
    ...(chat.pnJid ? { pnJid: chat.pnJid } : {}),
    ...(chat.name ? { name: chat.name } : {}),
    // Newest first, as the phone sends them.
    messages: [...messages].reverse(),
    conversationTimestamp: Number(messages.at(-1)?.message?.messageTimestamp ?? now),
    unreadCount: 0,
  });
  // Split by messages into chunks; the first chunk is the bootstrap with every mapping.
  const chunks: proto.IConversation[][] = [[]];
  let inChunk = 0;
  for (const chat of chats) {
    const messages = perChat.get(chat.id) ?? [];
    if (inChunk > 0 && inChunk + messages.length > CHUNK_MESSAGES) {
      chunks.push([]);
      inChunk = 0;
    }
    chunks.at(-1)?.push(conversation(chat, messages));
    inChunk += messages.length;
  }
  const mappings = contacts.map((contact) => ({ pnJid: pnJid(contact.pn), lidJid: lidJid(contact.lid) }));
  const out: HistoryChunk[] = [];
  chunks.forEach((conversations, index) => {
    const syncType = index === 0 ? HistoryType.INITIAL_BOOTSTRAP : HistoryType.RECENT;
    const progress = index === chunks.length - 1 ? 100 : Math.round(((index + 1) / chunks.length) * 100);
    const chunkOrder = index === 0 ? 1 : index;
    out.push({
      syncType,
      chunkOrder,
      progress,
      payload: deflate({ syncType, conversations, chunkOrder, progress, ...(index === 0 ? { phoneNumberToLidMappings: mappings } : {}) }),
    });
  });
  const pushnames = contacts.map((contact) => ({ id: pnJid(contact.pn), pushname: contact.pushName }));
  out.push({ syncType: HistoryType.PUSH_NAME, chunkOrder: 1, progress: 100, payload: deflate({ syncType: HistoryType.PUSH_NAME, pushnames, chunkOrder: 1, progress: 100 }) });
  return out;
}

interface Mutation {
  readonly index: string[];
  readonly value: proto.ISyncActionValue;
}

/** Mutations per patch: WhatsApp batches a collection's changes; one patch each would make Baileys' sync quadratic. */
const MUTATIONS_PER_PATCH = 100;
const SET = proto.SyncdMutation.SyncdOperation.SET;

/** The five keys of an app-state sync key (HKDF-SHA256, "WhatsApp Mutation Keys", 160 bytes). */
function mutationKeys(keyData: Uint8Array) {
  const expanded = Buffer.from(hkdfSync('sha256', keyData, Buffer.alloc(0), 'WhatsApp Mutation Keys', 160));
  return {
    indexKey: expanded.subarray(0, 32),
    valueEncryptionKey: expanded.subarray(32, 64),
    valueMacKey: expanded.subarray(64, 96),
    snapshotMacKey: expanded.subarray(96, 128),
    patchMacKey: expanded.subarray(128, 160),
  };
}

const hmac = (algorithm: 'sha256' | 'sha512', key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/** A version as WhatsApp's MACs take it: 8 bytes, big-endian. */
const version64 = (version: number): Buffer => {
  const out = Buffer.alloc(8);
  out.writeUInt32BE(version, 4);
  return out;
};

/**
 * Encodes one collection's mutations (all SET) as patches of up to 100 mutations, versions 1..n,
 * with the MACs a verifying client checks: value MAC (HMAC-SHA512 of operation, key id, IV +
 * ciphertext, truncated to 32), index MAC, the LT hash of the collection, snapshot and patch MACs.
 */
function encodeCollection(name: WAPatchName, mutations: readonly Mutation[], key: AppStateKey): Buffer[] {
  const keys = mutationKeys(key.keyData.keyData ?? new Uint8Array(32));
  const keyIdBytes = Buffer.concat([Buffer.from([0x01]), key.keyId]);
  const keyIdTrailer = version64(keyIdBytes.length);
  let hash: Uint8Array = Buffer.alloc(128);
  const patches: Buffer[] = [];
  for (let start = 0, version = 1; start < mutations.length; start += MUTATIONS_PER_PATCH, version++) {
    const records: proto.ISyncdMutation[] = [];
    const valueMacs: Buffer[] = [];
    for (const mutation of mutations.slice(start, start + MUTATIONS_PER_PATCH)) {
      const index = Buffer.from(JSON.stringify(mutation.index));
      const data = proto.SyncActionData.encode({ index, value: mutation.value, padding: new Uint8Array(0), version: 2 }).finish();
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-256-cbc', keys.valueEncryptionKey, iv);
      const encrypted = Buffer.concat([iv, cipher.update(data), cipher.final()]);
      const valueMac = hmac('sha512', keys.valueMacKey, keyIdBytes, encrypted, keyIdTrailer).subarray(0, 32);
      valueMacs.push(valueMac);
      records.push({
        operation: SET,
        record: { index: { blob: hmac('sha256', keys.indexKey, index) }, value: { blob: Buffer.concat([encrypted, valueMac]) }, keyId: { id: key.keyId } },
      });
    }
    hash = LT_HASH_ANTI_TAMPERING.subtractThenAdd(hash, [], valueMacs);
    const snapshotMac = hmac('sha256', keys.snapshotMacKey, hash, version64(version), Buffer.from(name));
    const patchMac = hmac('sha256', keys.patchMacKey, snapshotMac, ...valueMacs, version64(version), Buffer.from(name));
    patches.push(Buffer.from(proto.SyncdPatch.encode({ version: { version }, mutations: records, snapshotMac, patchMac, keyId: { id: key.keyId } }).finish()));
  }
  return patches;
}

/** The app state: push name (`critical_block`), contacts (`critical_unblock_low`), muted groups (`regular_high`), pinned chats (`regular_low`). */
function buildAppState({ bot, contacts, groups, now }: ContentSource, key: AppStateKey): Map<WAPatchName, Buffer[]> {
  const timestamp = now * 1000;
  const collections: Record<WAPatchName, Mutation[]> = {
    critical_block: [{ index: ['setting_pushName'], value: { timestamp, pushNameSetting: { name: bot.pushName } } }],
    critical_unblock_low: contacts.map((contact) => ({
      index: ['contact', pnJid(contact.pn)],
      value: { timestamp, contactAction: { fullName: contact.pushName, firstName: contact.pushName.split(' ')[0] ?? contact.pushName, lidJid: lidJid(contact.lid) } },
    })),
    regular_high: groups.slice(0, Math.ceil(groups.length / 4)).map((group) => ({
      index: ['mute', group.jid],
      value: { timestamp, muteAction: { muted: true, muteEndTimestamp: -1 } },
    })),
    regular_low: contacts.slice(0, 3).map((contact) => ({ index: ['pin_v1', lidJid(contact.lid)], value: { timestamp, pinAction: { pinned: true } } })),
    regular: [],
  };
  const out = new Map<WAPatchName, Buffer[]>();
  for (const [name, mutations] of Object.entries(collections) as [WAPatchName, Mutation[]][]) {
    out.set(name, encodeCollection(name, mutations, key));
  }
  return out;
}

/** A fresh app-state sync key, as a primary phone makes one (6-byte id, 32 bytes of key data). */
export function newAppStateKey(nowMs: number): AppStateKey {
  return {
    keyId: randomBytes(6),
    keyData: { keyData: randomBytes(32), fingerprint: { rawId: randomBytes(4).readUInt32BE(), currentIndex: 0, deviceIndexes: [0] }, timestamp: nowMs },
  };
}

/** Builds what the account's primary phone sends its companions after linking. */
export function buildAccountContent(source: ContentSource): AccountContent {
  const appStateKey = newAppStateKey(source.now * 1000);
  return { appStateKey, history: buildHistory(source), appState: buildAppState(source, appStateKey) };
}
