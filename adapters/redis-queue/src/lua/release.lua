-- Gives back a job we hold without counting an attempt: it goes to the head of the waiting
-- list (right end), so the next take resumes it.
-- KEYS: 1 active, 2 stalled, 3 wait, 4 paused, 5 meta-paused
-- ARGV: 1 key prefix, 2 job id, 3 lock token, 4 process token
-- Returns 0 when done; -1 job missing, -2 lock missing, -6 lock owned by another worker,
-- -3 job not in active.
local prefix = ARGV[1]
local id = ARGV[2]
local job_key = prefix .. id
if redis.call('EXISTS', job_key) == 0 then
  return -1
end
local lock = check_lock(job_key .. ':lock', ARGV[3])
if lock ~= 0 then
  return lock
end
if redis.call('LREM', KEYS[1], -1, id) == 0 then
  return -3
end
redis.call('DEL', job_key .. ':lock')
redis.call('SREM', KEYS[2], id)
redis.call('RPUSH', waiting_list(KEYS[3], KEYS[4], KEYS[5]), id)
redis.call('PUBLISH', prefix .. 'waiting@' .. ARGV[4], id)
return 0
