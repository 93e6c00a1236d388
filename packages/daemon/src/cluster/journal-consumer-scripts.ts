/** The consumer's fenced reads and claims (see `partition-leases.ts` for the leases). */
import { LEASE_LUA_FUNCTIONS } from './lease-scripts.js';

/**
 * Reads the partitions this consumer holds, each only if its lease still holds the value the
 * consumer knows (else `{ 'lost' }`). KEYS: pairs (stream, lease). ARGV: group, consumer,
 * count, then pairs (expected lease value, cursor). Cursor `>` reads new entries; an id reads
 * this consumer's own pending entries after it (what it claimed from a previous owner), and
 * once none is left the same call moves on to new entries. Returns per partition
 * { mode ('>' or the cursor), entries, the stream's last id when nothing was read (where a
 * blocking XREAD may wait from) }.
 */
export const CONSUMER_READ_LUA = `${LEASE_LUA_FUNCTIONS}
local group, consumer, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 1, #KEYS / 2 do
  local stream, lease = KEYS[2 * i - 1], KEYS[2 * i]
  local expected, cursor = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  if lease_value(lease) ~= expected then
    out[i] = { 'lost' }
  else
    local entries = {}
    local mode = cursor
    if cursor ~= '>' then
      local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, cursor)
      if r and r[1] then entries = r[1][2] end
      if #entries == 0 then mode = '>' end
    end
    if mode == '>' then
      local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
      if r and r[1] then entries = r[1][2] end
    end
    local last = ''
    if #entries == 0 then
      local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
      if top[1] then last = top[1][1] else last = '0-0' end
    end
    out[i] = { mode, entries, last }
  end
end
return out
`;

/**
 * Claims the group's pending entries of a partition for this consumer, which holds its lease
 * (min idle 0: whoever had them lost the lease). KEYS: the stream, the lease. ARGV: group,
 * consumer, expected lease value, start id, count. Once the scan is through, consumers with
 * nothing pending left on this stream are deleted from the group (ids of dead processes would
 * pile up). Returns { next start id ('0-0': done), how many were claimed } or { 'lost' }.
 */
export const CONSUMER_CLAIM_LUA = `${LEASE_LUA_FUNCTIONS}
if lease_value(KEYS[2]) ~= ARGV[3] then return { 'lost' } end
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[4], 'COUNT', tonumber(ARGV[5]), 'JUSTID')
if r[1] == '0-0' then
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
    local info = {}
    for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
    if info['name'] ~= ARGV[2] and tonumber(info['pending']) == 0 then redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name']) end
  end
end
return { r[1], #r[2] }
`;
