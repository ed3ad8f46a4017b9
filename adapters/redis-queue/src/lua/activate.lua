-- Locks a job the blocking move just put in active, and returns its hash.
-- KEYS: 1 active, 2 stalled, 3 priority
-- ARGV: 1 key prefix, 2 job id, 3 lock token, 4 lock duration (ms), 5 process token
-- Returns the job hash as a flat array, or false when the job no longer exists (then it is
-- taken out of active).
local prefix = ARGV[1]
local id = ARGV[2]
local job_key = prefix .. id
if redis.call('EXISTS', job_key) == 0 then
  redis.call('LREM', KEYS[1], 1, id)
  redis.call('SREM', KEYS[2], id)
  return false
end
redis.call('SREM', KEYS[2], id)
redis.call('SET', job_key .. ':lock', ARGV[3], 'PX', ARGV[4])
redis.call('ZREM', KEYS[3], id)
redis.call('PUBLISH', prefix .. 'active@' .. ARGV[5], id)
redis.call('HSET', job_key, 'processedOn', int_str(now_ms()))
return redis.call('HGETALL', job_key)
