-- Records a failed attempt of a job we hold, then schedules a retry or fails it for good.
-- KEYS: 1 active, 2 delayed, 3 failed, 4 stalled, 5 wait, 6 paused, 7 meta-paused, 8 priority
-- ARGV: 1 key prefix, 2 job id, 3 lock token, 4 reason, 5 retry allowed ("1"/"0"),
--       6 process token
-- Returns {outcome, attemptsMade, delayMs}: outcome 1 delayed retry, 2 immediate retry,
-- 0 failed for good; or {code} with -1 job missing, -2 lock missing, -6 lock owned by another
-- worker, -3 job not in active, -7 attemptsMade is not an integer (nothing changed then).
local prefix = ARGV[1]
local id = ARGV[2]
local reason = ARGV[4]
local job_key = prefix .. id
-- HINCRBY below fails on a value that is not an integer (a job written by hand or corrupted):
-- check first, so that an error cannot leave the job out of every list.
local made = redis.call('HGET', job_key, 'attemptsMade')
if made and not string.match(made, '^%-?%d+$') then
  return { -7 }
end
local taken = take_out_of_active(job_key, id, ARGV[3], KEYS[1], KEYS[4])
if taken ~= 0 then
  return { taken }
end

local opts = read_opts(job_key)
local attempts_made = redis.call('HINCRBY', job_key, 'attemptsMade', 1)

-- The stacktrace field is a JSON array of strings; keep the last stackTraceLimit entries.
local traces = {}
local raw_traces = redis.call('HGET', job_key, 'stacktrace')
if raw_traces then
  local ok, decoded = pcall(cjson.decode, raw_traces)
  if ok and type(decoded) == 'table' then
    for _, entry in ipairs(decoded) do
      if type(entry) == 'string' then
        table.insert(traces, entry)
      end
    end
  end
end
table.insert(traces, reason)
local limit = tonumber(opts.stackTraceLimit)
if limit and limit > 0 then
  while #traces > limit do
    table.remove(traces, 1)
  end
end
redis.call('HSET', job_key, 'stacktrace', cjson.encode(traces), 'failedReason', reason)

local max_attempts = tonumber(opts.attempts) or 1
if ARGV[5] == '1' and attempts_made < max_attempts then
  -- Backoff: a number is a fixed delay; {type = 'fixed' | 'exponential', delay = ms}.
  -- Unknown (custom) strategies fall back to their delay, as a fixed one.
  local delay = 0
  local backoff = opts.backoff
  if type(backoff) == 'number' then
    delay = backoff
  elseif type(backoff) == 'table' then
    local base = tonumber(backoff.delay) or 0
    if backoff.type == 'exponential' then
      delay = math.floor((2 ^ attempts_made - 1) * base + 0.5)
    else
      delay = base
    end
  end
  if delay > 0 then
    local due = now_ms() + delay
    redis.call('ZADD', KEYS[2], int_str(due * 4096 + id_bits(id)), id)
    redis.call('PUBLISH', prefix .. 'delayed', int_str(due))
    return { 1, attempts_made, delay }
  end
  local target = waiting_list(KEYS[5], KEYS[6], KEYS[7])
  local priority = tonumber(redis.call('HGET', job_key, 'priority')) or 0
  push_waiting(target, KEYS[8], id, priority, opts.lifo == true)
  redis.call('PUBLISH', prefix .. 'waiting@' .. ARGV[6], id)
  return { 2, attempts_made, 0 }
end

finish_job(prefix, KEYS[3], id, now_ms(), 'failedReason', reason, opts.removeOnFail)
redis.call('PUBLISH', prefix .. 'failed', cjson.encode({ jobId = id, val = reason }))
return { 0, attempts_made, 0 }
