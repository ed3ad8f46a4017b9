-- The data of every job that will still be processed: waiting, paused, active or delayed.
-- One script, so a job moving between those states while it runs is seen exactly once.
-- KEYS: 1 wait, 2 paused, 3 active, 4 delayed
-- ARGV: 1 key prefix
-- Returns the jobs' `data` fields (ids whose hash is gone are skipped).
local prefix = ARGV[1]
local out = {}
local function collect(ids)
  for _, id in ipairs(ids) do
    local data = redis.call('HGET', prefix .. id, 'data')
    if data then
      out[#out + 1] = data
    end
  end
end
collect(redis.call('LRANGE', KEYS[1], 0, -1))
collect(redis.call('LRANGE', KEYS[2], 0, -1))
collect(redis.call('LRANGE', KEYS[3], 0, -1))
collect(redis.call('ZRANGE', KEYS[4], 0, -1))
return out
