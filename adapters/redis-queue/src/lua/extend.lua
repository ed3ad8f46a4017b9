-- Extends a job's lock if it is still ours.
-- KEYS: 1 lock key, 2 stalled
-- ARGV: 1 lock token, 2 lock duration (ms), 3 job id
-- Returns 1 when extended, 0 when the lock is gone or belongs to someone else.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
return 1
