/**
 * The journal's Lua scripts. Each runs atomically in Redis, so what one decides from what it
 * read (a lease's owner, the slowest group's oldest pending id) still holds when it writes.
 * ioredis runs a defined script with EVALSHA and falls back to EVAL on `NOSCRIPT` (a
 * restarted Redis has an empty script cache). Redis 7 replicates and persists a script by
 * its effects (in a MULTI/EXEC block in the AOF), so a crash keeps all of one or none of it.
 * They are bound with `defineScript(redis, name, 'any', lua)` (redis-connection.ts): they take
 * one key per partition they touch.
 */

/**
 * Appends a batch. KEYS: the seq counter, the message index, then the partition streams the
 * batch uses. ARGV: the entry count n, then 6 per entry (index of its stream in KEYS, session id, ts, event JSON,
 * message id or '', raw or ''), then the partition of each stream key (for the index values).
 * The seqs are consecutive (INCRBY once; nothing runs between the XADDs of a script). If an
 * XADD is refused (a stream holds an id at or beyond the counter: the journal contradicts
 * itself), the entries already added are deleted and the counter put back: all or nothing.
 * Returns the first seq.
 */
export const APPEND_LUA = `
local n = tonumber(ARGV[1])
local last = redis.call('INCRBY', KEYS[1], n)
local first = last - n + 1
local added = {}
for i = 0, n - 1 do
  local b = i * 6 + 1
  local stream = KEYS[tonumber(ARGV[b + 1])]
  local id = (first + i) .. '-0'
  local ok, err
  if ARGV[b + 6] ~= '' then
    ok, err = pcall(redis.call, 'XADD', stream, id, 's', ARGV[b + 2], 't', ARGV[b + 3], 'e', ARGV[b + 4], 'm', ARGV[b + 5], 'r', ARGV[b + 6])
  else
    ok, err = pcall(redis.call, 'XADD', stream, id, 's', ARGV[b + 2], 't', ARGV[b + 3], 'e', ARGV[b + 4])
  end
  if not ok then
    for _, done in ipairs(added) do redis.call('XDEL', done[1], done[2]) end
    redis.call('DECRBY', KEYS[1], n)
    return redis.error_reply('JOURNAL_INCONSISTENT stream ' .. stream .. ' refused id ' .. id .. ': ' .. tostring(err.err or err))
  end
  added[#added + 1] = { stream, id }
end
for i = 0, n - 1 do
  local b = i * 6 + 1
  if ARGV[b + 6] ~= '' then
    local k = tonumber(ARGV[b + 1])
    local partition = ARGV[1 + n * 6 + k - 2]
    redis.call('HSET', KEYS[2], ARGV[b + 2] .. '\\0' .. ARGV[b + 5], partition .. ':' .. (first + i))
  end
end
return first
`;

/**
 * What one partition's groups still need, and (with a positive limit) trims what none of
 * them needs and the retention policy lets go. KEYS: the stream, the message index. ARGV:
 * count boundary (seqs at or below it are beyond the newest maxCount), age cutoff (ts), the
 * most entries to trim, the partition. A group needs its oldest pending entry, else the first
 * entry after its last delivered id. Returns { trimmed, { group, pending, undelivered (-1:
 * unknown), needed seq (0: nothing) }... }.
 */
export const PARTITION_STATUS_LUA = `
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then return { 0 } end
local function seqOf(id) return tonumber(string.match(id, '^(%d+)-')) end
local out = { 0 }
local minNeeded = nil
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local pending = tonumber(info['pending'])
  local lag = info['lag']
  local needed = 0
  if pending > 0 then
    local first = redis.call('XPENDING', KEYS[1], info['name'], '-', '+', 1)
    needed = seqOf(first[1][1])
  end
  local after = redis.call('XRANGE', KEYS[1], '(' .. info['last-delivered-id'], '+', 'COUNT', 1)
  local undelivered = -1
  if lag then undelivered = tonumber(lag) elseif #after == 0 then undelivered = 0 end
  if needed == 0 and #after > 0 then needed = seqOf(after[1][1]) end
  if needed > 0 and (minNeeded == nil or needed < minNeeded) then minNeeded = needed end
  out[#out + 1] = { info['name'], pending, undelivered, needed }
end
local limit = tonumber(ARGV[3])
if #groups == 0 or limit <= 0 then return out end
local range
if minNeeded == nil then
  range = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', limit)
else
  range = redis.call('XRANGE', KEYS[1], '-', '(' .. minNeeded .. '-0', 'COUNT', limit)
end
local boundary = tonumber(ARGV[1])
local cutoff = tonumber(ARGV[2])
local cut = nil
local messages = {}
for _, entry in ipairs(range) do
  local seq = seqOf(entry[1])
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  local ts = tonumber(f['t'])
  if seq == nil or not (seq <= boundary or (ts ~= nil and ts < cutoff)) then break end
  cut = seq
  if f['m'] and f['r'] then messages[#messages + 1] = { f['s'] .. '\\0' .. f['m'], ARGV[4] .. ':' .. seq } end
end
if cut == nil then return out end
out[1] = redis.call('XTRIM', KEYS[1], 'MINID', (cut + 1) .. '-0')
for _, m in ipairs(messages) do
  if redis.call('HGET', KEYS[2], m[1]) == m[2] then redis.call('HDEL', KEYS[2], m[1]) end
end
return out
`;

/**
 * Registers a consumer group on every partition stream (created empty if need be). KEYS: the
 * group set, then the streams. ARGV: the group, where it starts (`0`: every entry held,
 * `$`: only new ones). Returns 1 when the group is new.
 */
export const ENSURE_GROUP_LUA = `
for i = 2, #KEYS do
  local ok, err = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[i], ARGV[1], ARGV[2], 'MKSTREAM')
  if not ok and not string.find(tostring(err.err or err), 'BUSYGROUP') then return redis.error_reply(tostring(err.err or err)) end
end
return redis.call('SADD', KEYS[1], ARGV[1])
`;

/** Forgets a consumer group everywhere. KEYS: the group set, then the streams. ARGV: the group. Returns 1 when it existed. */
export const REMOVE_GROUP_LUA = `
for i = 2, #KEYS do pcall(redis.call, 'XGROUP', 'DESTROY', KEYS[i], ARGV[1]) end
return redis.call('SREM', KEYS[1], ARGV[1])
`;
