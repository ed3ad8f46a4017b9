-- The stalled-job check, at most once per interval across all workers.
-- A job marked at the previous check whose lock has expired since goes back to the head of
-- the waiting list, or fails for good once it stalled more than the allowed count. Then every
-- job in active is marked for the next check (taking or renewing a lock unmarks it).
-- KEYS: 1 stalled-check, 2 stalled, 3 active, 4 wait, 5 paused, 6 meta-paused, 7 failed
-- ARGV: 1 key prefix, 2 check interval (ms), 3 max stalled count
-- Returns {ran (1/0), recovered, failed}.
local prefix = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return { 0, 0, 0 }
end
local now = now_ms()
redis.call('SET', KEYS[1], int_str(now), 'PX', ARGV[2])

local max_stalled = tonumber(ARGV[3])
local recovered = 0
local failed = 0
local marked = redis.call('SMEMBERS', KEYS[2])
if #marked > 0 then
  redis.call('DEL', KEYS[2])
  local target = waiting_list(KEYS[4], KEYS[5], KEYS[6])
  for _, id in ipairs(marked) do
    local job_key = prefix .. id
    if redis.call('EXISTS', job_key .. ':lock') == 0
        and redis.call('LREM', KEYS[3], 1, id) > 0
        and redis.call('EXISTS', job_key) == 1 then
      local count = redis.call('HINCRBY', job_key, 'stalledCounter', 1)
      if count <= max_stalled then
        redis.call('RPUSH', target, id)
        redis.call('PUBLISH', prefix .. 'stalled@', id)
        recovered = recovered + 1
      else
        local opts = read_opts(job_key)
        finish_job(prefix, KEYS[7], id, now, 'failedReason',
          'job stalled more than allowable limit', opts.removeOnFail)
        redis.call('PUBLISH', prefix .. 'failed',
          cjson.encode({ jobId = id, val = 'job stalled more than maxStalledCount' }))
        failed = failed + 1
      end
    end
  end
end

local active = redis.call('LRANGE', KEYS[3], 0, -1)
local batch = 7000
for from = 1, #active, batch do
  redis.call('SADD', KEYS[2], unpack(active, from, math.min(from + batch - 1, #active)))
end
return { 1, recovered, failed }
