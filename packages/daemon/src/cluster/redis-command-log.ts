/**
 * The idempotency log of cluster mode (issue #17, "Commands reach the owner"): one Redis hash
 * per command id, shared by every daemon, so a repeated id gets the recorded outcome whichever
 * daemon it reaches, also after the session moved. Same contract as the SQLite log
 * (storage/sqlite-command-log.ts): the outcome is stored with `BufferJSON` and with the hash of
 * the arguments, so the executor refuses a repeat with other arguments (`IDEMPOTENCY_CONFLICT`).
 *
 * What one host does with its in-flight map the cluster does with a claim, because two daemons
 * can get one id at once (the worker retried at another daemon while the session changed
 * owner): before running a recorded command the executor claims its id in one Lua script that
 * answers the recorded outcome, or another daemon's claim, or takes the claim. Only the holder
 * runs; the other answers `TIMEOUT` (retryable) or `IDEMPOTENCY_CONFLICT`. Recording replaces
 * the claim (and keeps an outcome recorded first); a run with nothing to record (a retryable
 * failure) releases it. A claim expires after `claimTtlMs`, so a daemon that died running a
 * command blocks its id only that long; and a claim carries the epoch of its session's lease
 * when it was taken, so that once the session has a newer lease (its owner died or handed it
 * over) the new owner takes the claim at once: the old holder can no longer send on the
 * session (fencing), so it will never record an outcome. What it may have sent before went out
 * under the command's WhatsApp message id (`messageIdFor`), which the new owner's send
 * reuses, and a phone shows one message per id: the contact sees one answer, not two.
 *
 * Retention by age is Redis' own expiry: a record lives `maxAgeMs` from its `createdAt`
 * (`STICKERBOT_COMMAND_LOG_MAX_AGE_H`), so no daemon has to prune.
 */
import type { Result } from '@stickerbot/protocol';
import type { Redis } from 'ioredis';
import { parseWithBuffers, stringifyWithBuffers, type CommandClaim, type CommandRecord, type CommandRecordInput, type SharedCommandLog } from '../storage/index.js';
import { ClusterError, defineScript, toClusterError } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Default time a claim holds an id: longer than any command's own deadline (a media download has 60 s). */
export const DEFAULT_COMMAND_CLAIM_MS = 120_000;

/** Options of {@link createRedisCommandLog}. */
export interface RedisCommandLogOptions {
  redis: Redis;
  keys: RedisKeys;
  /** Who claims: this daemon's id, unique in the cluster. */
  holder: string;
  /** How long an outcome is kept (ms; the idempotency window). */
  maxAgeMs: number;
  /** How long a claim lives without being recorded or released (ms, default {@link DEFAULT_COMMAND_CLAIM_MS}). */
  claimTtlMs?: number;
  /** Wall clock in ms (default `Date.now`), the clock of `createdAt`. */
  now?: () => number;
}

/** The command log in Redis: the executor's {@link SharedCommandLog} with claims. */
export interface RedisCommandLog extends SharedCommandLog {
  get(id: string): Promise<CommandRecord | undefined>;
  has(id: string): Promise<boolean>;
  record(record: CommandRecordInput): Promise<void>;
  claim(id: string, first: { op: string; argsHash: string; sessionId?: string | undefined }): Promise<CommandClaim>;
  release(id: string): Promise<void>;
}

// KEYS[1]: the command's hash, KEYS[2]: its session's lease (KEYS[1] again without a session).
// ARGV: holder, op, args hash, session id ('' none), claim ms. Returns {} when claimed here (a
// claim of our own left behind is taken again), {'taken', holder, epoch} when it took over a
// claim made under an older lease of the session, else the hash.
const CLAIM = `
local state = redis.call('HGET', KEYS[1], 'state')
local epoch = ''
if ARGV[4] ~= '' then epoch = redis.call('HGET', KEYS[2], 'epoch') or '' end
local taken = {}
if state == 'done' then return redis.call('HGETALL', KEYS[1]) end
if state == 'running' then
  local held = redis.call('HMGET', KEYS[1], 'holder', 'epoch')
  if held[1] ~= ARGV[1] then
    -- A claim made with no lease of its session (or by a daemon before epochs) stays until it expires.
    local claimedAt = tonumber(held[2] or '')
    if not (claimedAt and epoch ~= '' and claimedAt < tonumber(epoch)) then return redis.call('HGETALL', KEYS[1]) end
    taken = {'taken', held[1], held[2]}
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'running', 'holder', ARGV[1], 'op', ARGV[2], 'argsHash', ARGV[3], 'sessionId', ARGV[4], 'epoch', epoch)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return taken`;

// KEYS[1]: the command's hash. ARGV: op, args hash ('' none), session id ('' none), result, createdAt, ttl ms.
// The first outcome recorded stands (1: recorded now, 0: one was there).
const RECORD = `
if redis.call('HGET', KEYS[1], 'state') == 'done' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done', 'op', ARGV[1], 'argsHash', ARGV[2], 'sessionId', ARGV[3], 'result', ARGV[4], 'createdAt', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1`;

// KEYS[1]: the command's hash. ARGV: holder. Deletes only our own claim.
const RELEASE = `
if redis.call('HGET', KEYS[1], 'state') == 'running' and redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Creates the Redis command log of one daemon. */
export function createRedisCommandLog(options: RedisCommandLogOptions): RedisCommandLog {
  const { redis, keys, holder, maxAgeMs } = options;
  const claimTtlMs = options.claimTtlMs ?? DEFAULT_COMMAND_CLAIM_MS;
  const now = options.now ?? Date.now;
  if (!(maxAgeMs > 0) || !(claimTtlMs > 0)) {
    throw new ClusterError('CLUSTER_CONFIG', `bad command log timings: maxAgeMs ${maxAgeMs} and claimTtlMs ${claimTtlMs} must be positive`);
  }
  const claimScript = defineScript<string[]>(redis, 'stickerbotCommandClaim', 2, CLAIM);
  const recordScript = defineScript<number>(redis, 'stickerbotCommandRecord', 1, RECORD);
  const releaseScript = defineScript<number>(redis, 'stickerbotCommandRelease', 1, RELEASE);

  function fieldsOf(flat: readonly string[]): Record<string, string> {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return fields;
  }

  function decodeRecord(id: string, fields: Record<string, string>): CommandRecord {
    const { op, result, createdAt } = fields;
    if (op === undefined || result === undefined || createdAt === undefined) {
      throw new ClusterError('CLUSTER_DATA', `the recorded outcome of command ${id} lacks op, result or createdAt`);
    }
    let decoded: Result<unknown>;
    try {
      decoded = parseWithBuffers(result) as Result<unknown>;
    } catch (cause) {
      throw new ClusterError('CLUSTER_DATA', `the recorded outcome of command ${id} is not JSON`, { cause });
    }
    const record: CommandRecord = { id, op, result: decoded, createdAt: Number(createdAt) };
    if (fields.sessionId) record.sessionId = fields.sessionId;
    if (fields.argsHash) record.argsHash = fields.argsHash;
    return record;
  }

  return {
    async get(id) {
      let fields: Record<string, string>;
      try {
        fields = await redis.hgetall(keys.command(id));
      } catch (error) {
        throw toClusterError(error, `could not read command ${id}`);
      }
      return fields.state === 'done' ? decodeRecord(id, fields) : undefined;
    },

    async has(id) {
      try {
        return (await redis.hget(keys.command(id), 'state')) === 'done';
      } catch (error) {
        throw toClusterError(error, `could not read command ${id}`);
      }
    },

    async record({ id, op, sessionId, argsHash, result, createdAt }) {
      const at = createdAt ?? now();
      const ttl = at + maxAgeMs - now();
      // Already older than the window (a clock step): nothing a repeat could still be answered with.
      if (ttl <= 0) return;
      await recordScript([keys.command(id)], [op, argsHash ?? '', sessionId ?? '', stringifyWithBuffers(result), at, Math.ceil(ttl)]);
    },

    async claim(id, first): Promise<CommandClaim> {
      const key = keys.command(id);
      const lease = first.sessionId ? keys.session(first.sessionId).lease : key;
      const reply = await claimScript([key, lease], [holder, first.op, first.argsHash, first.sessionId ?? '', claimTtlMs]);
      if (reply.length === 0) return { state: 'claimed' };
      if (reply[0] === 'taken') return { state: 'claimed', takenFrom: { holder: reply[1] ?? '', epoch: Number(reply[2]) } };
      const fields = fieldsOf(reply);
      if (fields.state === 'done') return { state: 'recorded', record: decodeRecord(id, fields) };
      return { state: 'running', holder: fields.holder ?? '', op: fields.op ?? '', argsHash: fields.argsHash || undefined };
    },

    async release(id) {
      await releaseScript([keys.command(id)], [holder]);
    },
  };
}
