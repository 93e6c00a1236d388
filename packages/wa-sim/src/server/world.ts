import { EventEmitter } from 'node:events';
import type { BinaryNode } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { Directory } from '../directory/accounts.js';
import { createGroups, type Groups } from '../directory/groups.js';
import type { ClientConnection } from './client-connection.js';
import type { PendingRegistration } from '../pairing/qr-pairing.js';
import type { LinkCodeRequest } from '../pairing/link-code.js';
import { createMailbox, type Mailbox } from '../e2e/mailbox.js';
import type { MediaHost } from '../media/media-host.js';
import type { PhoneSentMessage } from '../e2e/phone-send.js';
import type { AccountContent } from '../e2e/account-content.js';
import { createConnectionCounters, type ConnectionCounters } from './connection-counters.js';

/** A node the emulator received and has no handler for. Tests assert this log stays empty. */
export interface UnhandledNode {
  readonly connectionId: number;
  readonly key: string;
  readonly node: BinaryNode;
}

/** Faults armed through the control API, consumed by the server as they fire. */
export interface FaultState {
  /** `<failure reason>` codes for the next logins, in order. */
  readonly loginFailures: number[];
  /** Error codes for the acks of the next client messages, in order (the message is not delivered). */
  readonly messageAckErrors: number[];
  /** `pn:device` keys whose nodes the server reads and ignores (no answers, no pongs). */
  readonly blackholed: Set<string>;
  /** Sign the next pair-success account signature with a wrong key (the HMAC stays valid). */
  forgeAccountSignature: boolean;
  /**
   * The primary phone does not send the initial history sync after a login (until cleared):
   * Baileys then holds its events back for up to 20 s (`AwaitingInitialSync`).
   */
  withholdHistorySync: boolean;
  /** Phone numbers whose next group message goes to companions without its sender-key distribution. */
  readonly withheldSenderKeys: Set<string>;
  /** Phone numbers whose fake phone loses the next sender key a companion distributes to it. */
  readonly lostSenderKeys: Set<string>;
}

/** Events the emulator core emits for the control API. */
export interface WorldEvents {
  /** A registering client was given QR refs. */
  registration: [PendingRegistration];
  /** A registering client asked for a pairing code for this phone number. */
  linkCodeRequest: [string];
  /** A companion logged in (after `success`). */
  login: [{ pn: string; deviceId: number; connectionId: number; echoedRoutingInfo: boolean }];
  /** A logged-in connection closed. */
  logout: [{ pn: string; deviceId: number; connectionId: number }];
}

/** The emulator's shared state, created once per `startSim()` and passed to every handler. */
export interface World {
  readonly log: Logger;
  readonly directory: Directory;
  readonly groups: Groups;
  readonly media: MediaHost;
  readonly events: EventEmitter<WorldEvents>;
  /** Logged-in connections by `pn:device`. */
  readonly online: Map<string, ClientConnection>;
  /** Logins, conflicts and live connections per `pn:device`. */
  readonly connections: ConnectionCounters;
  /** Registrations waiting for a QR scan, by ref. */
  readonly registrations: Map<string, PendingRegistration>;
  /** Pairing-code requests (`requestPairingCode`) by phone number. */
  readonly linkCodes: Map<string, LinkCodeRequest>;
  /** Stanzas queued for a companion that is offline, by `pn:device`. */
  readonly offline: Map<string, BinaryNode[]>;
  /**
   * Message stanzas a companion's connection was sent and has not receipted yet, by `pn:device`
   * and message id: when that connection closes, they are delivered again (the offline queue),
   * as WhatsApp keeps a message until its delivery receipt.
   */
  readonly awaitingReceipt: Map<string, Map<string, { node: BinaryNode; connection: ClientConnection }>>;
  readonly unhandled: UnhandledNode[];
  /** Protocol violations by clients (bad signatures, undecryptable copies). Tests assert it stays empty. */
  readonly problems: string[];
  /** Messages fake phones sent, by id, to answer retry receipts. */
  readonly phoneSent: Map<string, PhoneSentMessage>;
  /** Retry receipts fake phones sent for companions' messages they could not decrypt: by message id, then phone number, how many. */
  readonly phoneRetries: Map<string, Map<string, number>>;
  /** Decrypted messages per fake primary phone, by phone number. */
  readonly mailboxes: Map<string, Mailbox>;
  /** Receipts companions sent for messages from fake phones, by message id. */
  readonly receiptsFromCompanions: Map<string, string[]>;
  readonly faults: FaultState;
  /** The edge-routing blob sent after `success`; clients echo it in their `ED` intro header. */
  readonly routingInfo: Buffer;
  /** Delay before the server sends a delivery receipt for a client message, in ms. */
  receiptDelayMs: number;
  /** What realistic accounts (by phone number) bring to a new companion: history, app state, key share. */
  readonly content: Map<string, AccountContent>;
}

export const deviceKey = (pn: string, deviceId: number): string => `${pn}:${deviceId}`;

export function createWorld(log: Logger, directory: Directory, media: MediaHost): World {
  return {
    log,
    directory,
    groups: createGroups(),
    media,
    events: new EventEmitter<WorldEvents>(),
    online: new Map(),
    connections: createConnectionCounters(),
    registrations: new Map(),
    linkCodes: new Map(),
    offline: new Map(),
    awaitingReceipt: new Map(),
    unhandled: [],
    problems: [],
    mailboxes: new Map(),
    phoneSent: new Map(),
    phoneRetries: new Map(),
    receiptsFromCompanions: new Map(),
    routingInfo: Buffer.from(`wa-sim-edge-${Date.now().toString(36)}`),
    faults: { loginFailures: [], messageAckErrors: [], blackholed: new Set(), forgeAccountSignature: false, withholdHistorySync: false, withheldSenderKeys: new Set(), lostSenderKeys: new Set() },
    receiptDelayMs: 150,
    content: new Map(),
  };
}

/**
 * Delivers a stanza to a companion now, or queues it (flagged `offline`) for its next login,
 * as WhatsApp's offline queue does.
 */
export function deliverToCompanion(world: World, pn: string, deviceId: number, node: BinaryNode): void {
  const key = deviceKey(pn, deviceId);
  const connection = world.online.get(key);
  // A socket that has started to close would drop the stanza: it waits for the next login.
  if (connection?.open) {
    sendToCompanion(world, key, connection, node);
    return;
  }
  const queue = world.offline.get(key) ?? [];
  queue.push({ ...node, attrs: { ...node.attrs, offline: '1' } });
  world.offline.set(key, queue);
}

/** Sends a stanza on a companion's live connection; a message is kept until the companion receipts it. */
export function sendToCompanion(world: World, key: string, connection: ClientConnection, node: BinaryNode): void {
  const id = node.attrs.id;
  if (node.tag === 'message' && id) {
    const awaiting = world.awaitingReceipt.get(key) ?? new Map<string, { node: BinaryNode; connection: ClientConnection }>();
    awaiting.set(id, { node, connection });
    world.awaitingReceipt.set(key, awaiting);
  }
  connection.send(node);
}

/** A companion receipted these messages: they are not delivered again. */
export function receiptedByCompanion(world: World, pn: string, deviceId: number, ids: readonly string[]): void {
  const awaiting = world.awaitingReceipt.get(deviceKey(pn, deviceId));
  for (const id of ids) awaiting?.delete(id);
}

/**
 * A companion's connection closed: what was sent on it and never receipted is delivered again
 * (now on another live connection, else at the next login). What a newer connection was sent
 * stays with that connection.
 */
export function redeliverUnreceipted(world: World, pn: string, deviceId: number, closed: ClientConnection): void {
  const awaiting = world.awaitingReceipt.get(deviceKey(pn, deviceId));
  if (!awaiting) return;
  for (const [id, { node, connection }] of awaiting) {
    if (connection !== closed) continue;
    awaiting.delete(id);
    deliverToCompanion(world, pn, deviceId, node);
  }
}

export function mailboxOf(world: World, pn: string): Mailbox {
  let mailbox = world.mailboxes.get(pn);
  if (!mailbox) {
    mailbox = createMailbox();
    world.mailboxes.set(pn, mailbox);
  }
  return mailbox;
}
