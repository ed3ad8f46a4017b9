-- Gives back a job we hold without counting an attempt: it goes to the head of the waiting
-- list (right end), so the next take resumes it.
-- KEYS: 1 active, 2 stalled, 3 wait, 4 paused, 5 meta-paused
-- ARGV: 1 key prefix, 2 job id, 3 lock token, 4 process token
-- Returns 0 when done; -1 job missing, -2 lock missing, -6 lock owned by another worker,
-- -3 job not in active.
local prefix = ARGV[1]
local id = ARGV[2]
local job_key = prefix .. id
local taken = take_out_of_active(job_key, id, ARGV[3], KEYS[1], KEYS[2])
if taken ~= 0 then
  return taken
end
redis.call('RPUSH', waiting_list(KEYS[3], KEYS[4], KEYS[5]), id)
redis.call('PUBLISH', prefix .. 'waiting@' .. ARGV[4], id)
return 0
