import type { ClientConnection } from './client-connection.js';

/**
 * What the emulator saw of one companion's connections: the proof that a cluster of daemons
 * never runs one session twice (zero conflicts, never more than one live connection).
 */
export interface DeviceConnectionCounters {
  readonly pn: string;
  readonly deviceId: number;
  /** Successful logins. */
  logins: number;
  /** Logins that replaced a live connection: the old one got `<conflict type="replaced"/>` (Baileys' 440). */
  conflicts: number;
  /** Logged-in connections whose websocket is open now. */
  live: number;
  /** The most logged-in connections that were open at the same time. */
  maxLive: number;
}

/** Counters per `pn:device`, kept by the session layer. */
export interface ConnectionCounters {
  /** Records a login; `replaced`: it replaced a live connection (a conflict). */
  login(key: string, pn: string, deviceId: number, connection: ClientConnection, replaced: boolean): void;
  /** Records that a logged-in connection closed. */
  closed(key: string, connection: ClientConnection): void;
  /** A snapshot, one entry per companion that ever logged in. */
  snapshot(): DeviceConnectionCounters[];
}

export function createConnectionCounters(): ConnectionCounters {
  const devices = new Map<string, Omit<DeviceConnectionCounters, 'live'> & { readonly connections: Set<ClientConnection> }>();
  // A connection the server or the client has started to close is no longer live, even if its
  // close event has not arrived yet (a client reconnecting after a 515 may log in before it does).
  const prune = (entry: { connections: Set<ClientConnection> }) => {
    for (const connection of entry.connections) if (!connection.open) entry.connections.delete(connection);
  };
  return {
    login(key, pn, deviceId, connection, replaced) {
      let entry = devices.get(key);
      if (!entry) {
        entry = { pn, deviceId, logins: 0, conflicts: 0, maxLive: 0, connections: new Set() };
        devices.set(key, entry);
      }
      prune(entry);
      entry.connections.add(connection);
      entry.logins += 1;
      if (replaced) entry.conflicts += 1;
      entry.maxLive = Math.max(entry.maxLive, entry.connections.size);
    },
    closed(key, connection) {
      devices.get(key)?.connections.delete(connection);
    },
    snapshot() {
      return [...devices.values()].map((entry) => {
        prune(entry);
        return { pn: entry.pn, deviceId: entry.deviceId, logins: entry.logins, conflicts: entry.conflicts, live: entry.connections.size, maxLive: entry.maxLive };
      });
    },
  };
}
