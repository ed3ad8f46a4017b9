-- Adds one job at the tail of the waiting list (or the paused list while paused), or, with a
-- due time still ahead, to the delayed set as bull's `queue.add(data, {delay})` does: scored
-- `due * 4096 + (id & 4095)`, announced on the `delayed` channel, `delay` in its hash and opts.
-- KEYS: 1 id counter, 2 wait, 3 paused, 4 meta-paused, 5 delayed
-- ARGV: 1 key prefix ("<prefix>:<queue>:"), 2 job name, 3 data JSON,
--       4 opts JSON up to and including the comma after its last own option, 5 process token,
--       6 due time (ms on the Redis clock; '0' for at once)
-- Returns the new job id.
local prefix = ARGV[1]
local now_n = now_ms()
local now = int_str(now_n)
local delay = math.max(tonumber(ARGV[6]) - now_n, 0)
local id = int_str(redis.call('INCR', KEYS[1]))
redis.call('HSET', prefix .. id,
  'name', ARGV[2],
  'data', ARGV[3],
  'opts', ARGV[4] .. '"delay":' .. int_str(delay) .. ',"timestamp":' .. now .. '}',
  'timestamp', now,
  'delay', int_str(delay),
  'priority', '0')
if delay > 0 then
  local due = now_n + delay
  redis.call('ZADD', KEYS[5], int_str(due * 4096 + id_bits(id)), id)
  redis.call('PUBLISH', prefix .. 'delayed', int_str(due))
else
  redis.call('LPUSH', waiting_list(KEYS[2], KEYS[3], KEYS[4]), id)
  redis.call('PUBLISH', prefix .. 'waiting@' .. ARGV[5], id)
end
return id
