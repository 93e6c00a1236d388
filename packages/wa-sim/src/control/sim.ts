import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { createDirectory, type Account } from '../directory/accounts.js';
import { SimProtocolError } from '../errors.js';
import { accountHandlers } from '../handlers/account-iqs.js';
import { prekeyHandlers } from '../handlers/prekeys.js';
import { usyncHandlers } from '../handlers/usync.js';
import { messageHandlers } from '../handlers/messages.js';
import { mediaConnHandlers } from '../handlers/media-conn.js';
import { appStateHandlers } from '../handlers/app-state.js';
import { startMediaHost } from '../media/media-host.js';
import { createTestTls } from '../media/test-tls.js';
import { createMediaTrust, type MediaTrust } from '../media/media-trust.js';
import { createContactPhone, type ContactPhone } from './phone.js';
import { createGroupControl, type SimGroups } from './groups.js';
import { groupHandlers } from '../handlers/groups.js';
import { createTranscript } from './transcript.js';
import { provisionRealisticAccount, type RealisticAccount, type RealisticAccountOptions } from './realistic-account.js';
import { createPrimaryPhone, type PrimaryPhone } from './primary-phone.js';
import { scanQr, type PairingResult } from '../pairing/qr-pairing.js';
import { enterPairingCode, linkCodeHandlers } from '../pairing/link-code.js';
import { notifyDeviceChange } from '../pairing/device-notifications.js';
import { createClientConnection, type ClientConnection } from '../server/client-connection.js';
import { createRouter } from '../server/router.js';
import { onAuthenticated, onClosed } from '../server/session.js';
import type { DeviceConnectionCounters } from '../server/connection-counters.js';
import { createWorld, deviceKey, type UnhandledNode, type World } from '../server/world.js';
import { createServerIdentity } from '../transport/cert-chain.js';
import { simNoiseRoot } from '../trust/noise-root.js';

/** Options for {@link startSim}. */
export interface SimOptions {
  /** pino logger for the emulator; silent by default. */
  readonly logger?: Logger;
  /** Keep a redacted log of every node (see {@link Sim.transcript}). Default true. */
  readonly transcript?: boolean;
  /** Delay before the server's delivery receipt for a client message, ms. Default 150. */
  readonly receiptDelayMs?: number;
}

/** One successful login. */
export interface LoginRecord {
  readonly pn: string;
  readonly deviceId: number;
  readonly connectionId: number;
  readonly echoedRoutingInfo: boolean;
}

/** {@link Sim.connections}: totals over every companion, and each companion's counters. */
export interface ConnectionReport {
  /** Conflicts (440, a login replacing a live connection of the same device) over all companions. */
  readonly conflicts: number;
  /** The most live connections any one companion had at the same time (1 when no session ever ran twice). */
  readonly maxLive: number;
  readonly devices: readonly DeviceConnectionCounters[];
}

/** How {@link Sim.kick} ends a companion's connection. */
export type KickMode =
  /** `<stream:error code='515'/>`: the client should reconnect at once. */
  | 'restart'
  /** Close the websocket without a stream error. */
  | 'close'
  /** Destroy the TCP socket, like a network drop. */
  | 'drop';

/** Fault injection: each armed fault fires once (or until cleared) and is then gone. */
export interface Faults {
  /** The next `count` logins fail with `<failure reason>` (e.g. 403 banned, 503 unavailable). */
  failLogins(reason: number, count?: number): void;
  /** The next client message is not delivered and is acked with this error (e.g. 479, 463). */
  rejectNextMessage(code: number): void;
  /** The server stops answering this companion (its keepalive pings time out); `clear()` ends it. */
  blackhole(pn: string, deviceId: number): void;
  /**
   * The next pairing carries an account signature made with the wrong key (the advSecret HMAC
   * stays valid): a correctly verifying client must refuse it. Stock rc14 accepts it.
   */
  forgeNextAccountSignature(): void;
  /**
   * The primary phone sends no initial history sync to companions that log in from now on
   * (a phone that is slow or offline after linking): Baileys stays in `AwaitingInitialSync`
   * and holds its events back for 20 s. `clear()` ends it; the sync follows on the next login.
   */
  withholdHistorySync(): void;
  /**
   * The next group message of fake phone `pn` reaches companions as a bare `skmsg`, without
   * the sender-key distribution: the client fails to decrypt it, sends a retry receipt, and
   * the phone answers with the message and its sender key, pairwise.
   */
  withholdSenderKey(pn: string): void;
  /**
   * Fake phone `pn` loses the next sender key a companion distributes to it: it cannot decrypt
   * that group message and sends the companion a retry receipt; the client sends the message again.
   */
  loseSenderKey(pn: string): void;
  /** Disarms every fault. */
  clear(): void;
}

/** A running emulator. Dispose it (`await using`) or call `close()`. */
export interface Sim extends AsyncDisposable {
  /** The websocket url to pass as Baileys' `waWebSocketUrl`. */
  readonly url: string;
  /** TLS trust for the media host, to pass to the client under test. */
  readonly media: MediaTrust;
  /** Public key of the noise root that signed the emulator's certificate chain. */
  readonly noiseRootPublicKey: Buffer;
  /** Every login so far, oldest first; `echoedRoutingInfo` tells whether the client sent the `ED` header. */
  readonly logins: readonly LoginRecord[];
  /** The last nodes exchanged, one line each, binary content redacted; print it when a test fails. */
  transcript(): string;
  /** Nodes no handler knew; a conformance test asserts this stays empty. */
  readonly unhandled: readonly UnhandledNode[];
  /** Client protocol violations the emulator detected (bad signatures, undecryptable copies). */
  readonly problems: readonly string[];
  /** A fake contact phone (created on first use, with a LID and Signal keys). */
  phone(pn: string, options?: { name?: string }): ContactPhone;
  /** The primary phone of a linked account (the bot's owner typing on their phone). */
  primaryPhone(pn: string): PrimaryPhone;
  /** Receipt types (`delivery`, `read`, ...) the companion sent for a phone's message id. */
  receiptsFor(messageId: string): readonly string[];
  /** The primary phone of `phone` scans a pairing QR string (from Baileys' `connection.update.qr`). */
  scanQr(qr: string, options: { phone: string }): Promise<PairingResult>;
  /**
   * The primary phone of `phone` types the pairing code the client got from
   * `requestPairingCode(phone)`. Resolves when the client has signed the device identity.
   */
  enterPairingCode(code: string, options: { phone: string }): Promise<PairingResult>;
  /** The account of a phone number, created on first use. */
  account(pn: string): Account;
  /** Groups: create one of fake phones and the bot, change its members, admins and subject. */
  readonly groups: SimGroups;
  /**
   * Makes `pn` an account with what a real number brings (contacts with LIDs, groups, a history
   * sync of about a thousand messages, app state; sizes in `options`): every companion that links
   * afterwards gets it. Call before linking.
   */
  provisionAccount(pn: string, options?: RealisticAccountOptions): Promise<RealisticAccount>;
  /** Resolves when companion `deviceId` of `pn` (any device if omitted) is logged in. */
  waitForLogin(pn: string, deviceId?: number, timeoutMs?: number): Promise<void>;
  /** True when the companion is connected and logged in. */
  isOnline(pn: string, deviceId: number): boolean;
  /** Logins, 440 conflicts and simultaneous live connections per companion since the start. */
  connections(): ConnectionReport;
  readonly faults: Faults;
  /** Ends a companion's live connection. */
  kick(pn: string, deviceId: number, mode?: KickMode): void;
  /** The phone removes the companion: the client closes with 401 (logged out). */
  unlink(pn: string, deviceId: number): void;
  close(): Promise<void>;
  /** Internal state, for the other control modules of this package. */
  readonly world: World;
}

export async function startSim(options: SimOptions = {}): Promise<Sim> {
  const log = options.logger ?? pino({ level: 'silent' });
  const tls = createTestTls();
  const mediaHost = await startMediaHost(tls, log);
  const media = createMediaTrust(tls.ca);
  const world = createWorld(log, createDirectory(), mediaHost);
  world.receiptDelayMs = options.receiptDelayMs ?? world.receiptDelayMs;
  const identity = createServerIdentity(simNoiseRoot(), Math.floor(Date.now() / 1000));
  const route = createRouter({ ...accountHandlers, ...prekeyHandlers, ...usyncHandlers, ...messageHandlers, ...mediaConnHandlers, ...linkCodeHandlers, ...appStateHandlers, ...groupHandlers });
  const connections = new Set<ClientConnection>();
  const logins: LoginRecord[] = [];
  const transcript = options.transcript === false ? undefined : createTranscript();
  world.events.on('login', (login) => logins.push(login));
  let nextConnectionId = 1;

  const http: Server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server: http, path: '/ws/chat' });
  wss.on('connection', (ws) => {
    const connection = createClientConnection(
      nextConnectionId++,
      ws,
      identity,
      {
        onAuthenticated: (conn, handshake) => onAuthenticated(world, conn, handshake),
        onNode: (conn, node) => {
          const login = conn.login;
          if (login && world.faults.blackholed.has(deviceKey(login.pn, login.deviceId))) return;
          return route({ world, connection: conn }, node);
        },
        onTraffic: (conn, direction, node) => transcript?.record(conn.id, direction, node),
        onClosed: (conn) => {
          connections.delete(conn);
          onClosed(world, conn);
        },
      },
      log,
    );
    connections.add(connection);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;

  const liveConnection = (pn: string, deviceId: number): ClientConnection => {
    const connection = world.online.get(deviceKey(pn, deviceId));
    if (!connection) throw new SimProtocolError('not-connected', `${pn}:${deviceId} is not connected`);
    return connection;
  };

  const groups = createGroupControl(world);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const connection of connections) connection.drop();
    wss.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await mediaHost.close();
    await media.close();
  };

  return {
    url: `ws://127.0.0.1:${port}/ws/chat`,
    noiseRootPublicKey: simNoiseRoot().public,
    media,
    unhandled: world.unhandled,
    logins,
    transcript: () => transcript?.format() ?? '',
    problems: world.problems,
    phone: (pn, phoneOptions) => createContactPhone(world, pn, phoneOptions?.name),
    primaryPhone: (pn) => createPrimaryPhone(world, pn),
    receiptsFor: (messageId) => world.receiptsFromCompanions.get(messageId) ?? [],
    world,
    scanQr: (qr, { phone }) => scanQr(world, qr, phone),
    enterPairingCode: (code, { phone }) => enterPairingCode(world, code, phone),
    account: (pn) => world.directory.ensure(pn),
    groups,
    // A promise, so that misuse rejects like the other control calls and content may later be uploaded.
    provisionAccount: (pn, accountOptions) => new Promise((resolve) => resolve(provisionRealisticAccount(world, groups, pn, accountOptions))),
    isOnline: (pn, deviceId) => world.online.has(deviceKey(pn, deviceId)),
    connections() {
      const devices = world.connections.snapshot();
      return {
        conflicts: devices.reduce((sum, device) => sum + device.conflicts, 0),
        maxLive: devices.reduce((max, device) => Math.max(max, device.maxLive), 0),
        devices,
      };
    },
    waitForLogin(pn, deviceId, timeoutMs = 30_000) {
      const matches = (key: string) => (deviceId === undefined ? key.startsWith(`${pn}:`) : key === deviceKey(pn, deviceId));
      if ([...world.online.keys()].some(matches)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const onLogin = (login: { pn: string; deviceId: number }) => {
          if (!matches(deviceKey(login.pn, login.deviceId))) return;
          clearTimeout(timer);
          world.events.off('login', onLogin);
          resolve();
        };
        const timer = setTimeout(() => {
          world.events.off('login', onLogin);
          reject(new SimProtocolError('timeout', `${pn} did not log in within ${timeoutMs} ms`));
        }, timeoutMs);
        world.events.on('login', onLogin);
      });
    },
    faults: {
      failLogins: (reason, count = 1) => {
        for (let i = 0; i < count; i++) world.faults.loginFailures.push(reason);
      },
      rejectNextMessage: (code) => {
        world.faults.messageAckErrors.push(code);
      },
      blackhole: (pn, deviceId) => {
        world.faults.blackholed.add(deviceKey(pn, deviceId));
      },
      forgeNextAccountSignature: () => {
        world.faults.forgeAccountSignature = true;
      },
      withholdHistorySync: () => {
        world.faults.withholdHistorySync = true;
      },
      withholdSenderKey: (pn) => {
        world.faults.withheldSenderKeys.add(pn);
      },
      loseSenderKey: (pn) => {
        world.faults.lostSenderKeys.add(pn);
      },
      clear: () => {
        world.faults.withheldSenderKeys.clear();
        world.faults.lostSenderKeys.clear();
        world.faults.forgeAccountSignature = false;
        world.faults.withholdHistorySync = false;
        world.faults.loginFailures.length = 0;
        world.faults.messageAckErrors.length = 0;
        world.faults.blackholed.clear();
      },
    },
    kick(pn, deviceId, mode = 'restart') {
      const connection = liveConnection(pn, deviceId);
      if (mode === 'restart') connection.streamError({ code: '515' });
      else if (mode === 'close') connection.close();
      else connection.drop();
    },
    unlink(pn, deviceId) {
      const account = world.directory.byPn(pn);
      if (!account?.companions.delete(deviceId)) {
        throw new SimProtocolError('unknown-account', `${pn}:${deviceId} is not linked`);
      }
      world.offline.delete(deviceKey(pn, deviceId));
      notifyDeviceChange(world, account, 'remove', deviceId);
      world.online
        .get(deviceKey(pn, deviceId))
        ?.streamError({ code: '401' }, [{ tag: 'conflict', attrs: { type: 'device_removed' } }]);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
