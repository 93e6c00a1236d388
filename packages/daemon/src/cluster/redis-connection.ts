/**
 * One ioredis client with the options cluster mode needs, Lua scripts bound as typed
 * functions, and the typed error of the cluster wing. ioredis runs a defined script with
 * EVALSHA and falls back to EVAL on `NOSCRIPT`, so a restarted Redis (whose script cache is
 * empty) needs nothing from us.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** Codes of {@link ClusterError}. */
export type ClusterErrorCode =
  /** A write carried an epoch that no longer owns the session's lease: another daemon took it over. */
  | 'LEASE_FENCED'
  /** This daemon does not hold the session's lease (never acquired it, released it, or lost it). */
  | 'LEASE_NOT_HELD'
  /** Redis did not answer, refused the connection, is still loading, or the command timed out. */
  | 'REDIS_UNAVAILABLE'
  /** Redis answered with an error for this command (a key of the wrong type, a script error): retrying will not help. */
  | 'REDIS_REFUSED'
  /** A bad Redis URL, key prefix or timing option. */
  | 'CLUSTER_CONFIG'
  /** Redis holds a value the daemon cannot read (not JSON, wrong shape). */
  | 'CLUSTER_DATA'
  /** A journal stream entry the journal cannot read: missing fields, an id that is not `<seq>-0`, bad JSON, an unknown event type. */
  | 'JOURNAL_ENTRY_MALFORMED'
  /** Redis disagrees with this daemon's journal settings (another partition count) or a journal or consumer option is invalid. */
  | 'JOURNAL_CONFIG'
  /** Redis holds a journal that contradicts itself (a stream entry beyond the `seq` counter). */
  | 'JOURNAL_INCONSISTENT'
  /** The journal consumer is closed, or does not hold the partition it was asked about. */
  | 'CONSUMER_CLOSED';

/** The typed error of cluster mode: a stable `code`, the cause kept for the logs. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Whether `error` is a {@link ClusterError} of `code`. */
export function isClusterError(error: unknown, code?: ClusterErrorCode): error is ClusterError {
  return error instanceof ClusterError && (code === undefined || error.code === code);
}

/** Options of {@link createRedisConnection}. */
export interface RedisConnectionOptions {
  /** Shown in `CLIENT LIST` (e.g. `stickerbot-daemon:<id>`). */
  name?: string;
  /** A command without a reply after this long fails (default 5 s): a lease renewal must not hang past its deadline. */
  commandTimeoutMs?: number;
  /** Connect timeout (default 5 s). */
  connectTimeoutMs?: number;
  /** Longest pause between reconnect attempts (default 2 s; attempts go 100 ms, 200 ms, … up to it). */
  maxReconnectDelayMs?: number;
  /**
   * Connection errors (refused, reset); ioredis reconnects on its own. Default: ignored, since
   * each command that fails because of one fails with its own {@link ClusterError}.
   */
  onError?: (error: Error) => void;
}

/**
 * Creates an ioredis client for `url` (`redis://` or `rediss://`). Commands sent while it
 * is disconnected wait in the offline queue and are retried twice over reconnects, then fail;
 * each fails at the latest after `commandTimeoutMs`. Reconnects never stop.
 */
export function createRedisConnection(url: string, options: RedisConnectionOptions = {}): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ClusterError('CLUSTER_CONFIG', `invalid Redis URL "${url}"`, { cause });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ClusterError('CLUSTER_CONFIG', `invalid Redis URL "${url}": the scheme must be redis:// or rediss://`);
  }
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const redisOptions: RedisOptions = {
    ...(options.name === undefined ? {} : { connectionName: options.name }),
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    // A command waits through reconnects (in ioredis' offline queue) until `commandTimeout`
    // fails it: a Redis restart shorter than that is invisible. With a retry limit instead
    // (it was 2: about 300 ms of reconnect attempts), every journal append, auth write and
    // lease renewal of a one-second restart failed, and the messages in flight were refused.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 100, maxDelay),
    // A script's NOSCRIPT after a Redis restart is handled by ioredis itself; a `LOADING`
    // Redis (replaying its AOF) answers errors until ready: reconnect and retry then.
    reconnectOnError: (err) => err.message.startsWith('LOADING'),
    disableClientInfo: true,
  };
  const client = new Redis(url, redisOptions);
  // Without a listener ioredis prints every refused reconnect on stderr.
  client.on('error', options.onError ?? (() => undefined));
  return client;
}

// Error replies that mean "not now" rather than "never": the server is starting, busy or failing over.
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/**
 * Turns what ioredis threw into a {@link ClusterError} (a `ClusterError` passes through). A
 * script that finds the journal contradicting itself answers an error reply starting with
 * `JOURNAL_INCONSISTENT` (redis-journal-scripts.ts): that code is kept.
 */
export function toClusterError(error: unknown, what: string): ClusterError {
  if (error instanceof ClusterError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes('JOURNAL_INCONSISTENT')) return new ClusterError('JOURNAL_INCONSISTENT', `${what}: ${message}`, { cause: error });
  const refused = error instanceof Error && error.name === 'ReplyError' && !TRANSIENT_REPLY.test(message);
  return new ClusterError(refused ? 'REDIS_REFUSED' : 'REDIS_UNAVAILABLE', `${what}: ${message}`, { cause: error });
}

/** A Lua script bound to a client: `run(keys, args)` resolves with the script's reply. */
export type RedisScript<R> = (keys: readonly string[], args: readonly (string | number | Buffer)[]) => Promise<R>;

type ScriptCommand = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/**
 * Defines `lua` on `redis` under `name` (ioredis' `defineCommand`: EVALSHA, EVAL on NOSCRIPT)
 * and returns it as a typed function taking a fixed number of keys, or any number with
 * `'any'` (the journal's scripts take one key per partition). Errors are {@link ClusterError}s.
 */
export function defineScript<R>(redis: Redis, name: string, numberOfKeys: number | 'any', lua: string): RedisScript<R> {
  if (!(name in redis)) redis.defineCommand(name, numberOfKeys === 'any' ? { lua } : { numberOfKeys, lua });
  const command = (redis as unknown as Record<string, ScriptCommand>)[name];
  if (typeof command !== 'function') throw new ClusterError('CLUSTER_CONFIG', `Redis script ${name} could not be defined`);
  return async (keys, args) => {
    if (numberOfKeys !== 'any' && keys.length !== numberOfKeys) throw new ClusterError('CLUSTER_CONFIG', `Redis script ${name} takes ${numberOfKeys} keys, got ${keys.length}`);
    // Without a fixed key count, ioredis takes the count as the call's first argument.
    const counted = numberOfKeys === 'any' ? [keys.length, ...keys] : keys;
    try {
      return (await command.call(redis, ...counted, ...args)) as R;
    } catch (error) {
      throw toClusterError(error, `Redis script ${name} failed`);
    }
  };
}
