"""The fleet's Lua scripts: each runs atomically on the one Redis.

A leased request lives in its worker's in-flight hash as ``"score\\ndata"`` (the request's
JSON has no raw newline), so it can go back to the queue with its priority.
"""

# Pop the best request and keep it in this worker's in-flight hash.
# KEYS: queue, in-flight hash, lease counter. Returns {lease id, data}.
POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], id, r[2] .. '\\n' .. r[1])
return {tostring(id), r[1]}
"""

_REQUEUE_FN = """
local function requeue(inflight, queue)
  local kv = redis.call('HGETALL', inflight)
  for i = 2, #kv, 2 do
    local v = kv[i]
    local p = string.find(v, '\\n', 1, true)
    redis.call('ZADD', queue, tonumber(string.sub(v, 1, p - 1)), string.sub(v, p + 1))
  end
  redis.call('DEL', inflight)
  return #kv / 2
end
"""

# Requeue the in-flight requests of workers whose heartbeat expired. KEYS: workers, queue.
# ARGV: heartbeat prefix, in-flight prefix.
REAP = _REQUEUE_FN + """
local n = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. w) == 0 then
    n = n + requeue(ARGV[2] .. w, KEYS[2])
    redis.call('SREM', KEYS[1], w)
  end
end
return n
"""

# Is there work left anywhere? KEYS: seeded, queue, workers. ARGV: in-flight prefix, self.
BUSY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not seeded yet' end
if redis.call('ZCARD', KEYS[2]) > 0 then return 'queue' end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if w ~= ARGV[2] and redis.call('HLEN', ARGV[1] .. w) > 0 then return 'worker ' .. w end
end
return false
"""

# A worker leaves: its unfinished requests go back to the queue; the last one out with an
# empty queue ends the run. KEYS: workers, queue, run key, items.
# ARGV: worker, in-flight key, heartbeat key, run id, run-end message.
LEAVE = _REQUEUE_FN + """
requeue(ARGV[2], KEYS[2])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[3])
if redis.call('SCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
  redis.call('RPUSH', KEYS[4], ARGV[5])
  return 1
end
return 0
"""

# Fleet-wide politeness: reserve the host's next fetch time. KEYS: host key. ARGV: delay ms.
# Returns how many ms to wait. Redis' clock is the only clock, so machines need not agree.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, nxt)
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], at + delay, 'PX', delay + 60000)
return at - now
"""
