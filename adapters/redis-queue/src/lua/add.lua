-- Adds one job at the tail of the waiting list (or the paused list while paused).
-- KEYS: 1 id counter, 2 wait, 3 paused, 4 meta-paused
-- ARGV: 1 key prefix ("<prefix>:<queue>:"), 2 job name, 3 data JSON,
--       4 opts JSON up to and including '"timestamp":', 5 process token
-- Returns the new job id.
local prefix = ARGV[1]
local now = int_str(now_ms())
local id = int_str(redis.call('INCR', KEYS[1]))
redis.call('HSET', prefix .. id,
  'name', ARGV[2],
  'data', ARGV[3],
  'opts', ARGV[4] .. now .. '}',
  'timestamp', now,
  'delay', '0',
  'priority', '0')
redis.call('LPUSH', waiting_list(KEYS[2], KEYS[3], KEYS[4]), id)
redis.call('PUBLISH', prefix .. 'waiting@' .. ARGV[5], id)
return id
