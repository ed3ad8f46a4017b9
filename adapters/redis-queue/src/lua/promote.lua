-- Moves delayed jobs that are due (due time <= now) to the waiting list.
-- KEYS: 1 delayed, 2 active, 3 wait, 4 paused, 5 meta-paused, 6 priority
-- ARGV: 1 key prefix, 2 process token, 3 batch limit
-- Returns the number of jobs promoted.
local prefix = ARGV[1]
local max_score = int_str(now_ms() * 4096 + 4095)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], 0, max_score, 'LIMIT', 0, tonumber(ARGV[3]))
local promoted = 0
if #due > 0 then
  local target = waiting_list(KEYS[3], KEYS[4], KEYS[5])
  for _, id in ipairs(due) do
    redis.call('ZREM', KEYS[1], id)
    local job_key = prefix .. id
    if redis.call('EXISTS', job_key) == 1 then
      redis.call('LREM', KEYS[2], 0, id)
      local priority = tonumber(redis.call('HGET', job_key, 'priority')) or 0
      push_waiting(target, KEYS[6], id, priority, false)
      redis.call('PUBLISH', prefix .. 'waiting@' .. ARGV[2], id)
      redis.call('HSET', job_key, 'delay', '0')
      promoted = promoted + 1
    end
  end
end
return promoted
