-- Moves a job we hold from active to completed.
-- KEYS: 1 active, 2 completed, 3 stalled
-- ARGV: 1 key prefix, 2 job id, 3 lock token, 4 return value JSON
-- Returns 0 when done; -1 job missing, -2 lock missing, -6 lock owned by another worker,
-- -3 job not in active. On any negative code nothing was changed.
local prefix = ARGV[1]
local id = ARGV[2]
local job_key = prefix .. id
local taken = take_out_of_active(job_key, id, ARGV[3], KEYS[1], KEYS[3])
if taken ~= 0 then
  return taken
end
local opts = read_opts(job_key)
finish_job(prefix, KEYS[2], id, now_ms(), 'returnvalue', ARGV[4], opts.removeOnComplete)
redis.call('PUBLISH', prefix .. 'completed', cjson.encode({ jobId = id }))
return 0
