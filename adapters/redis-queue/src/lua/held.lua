-- Whether a worker that does not listen to Paloma's stop requests (a Node bull worker) holds a
-- job of this campaign: an id in `active` whose data names the campaign and whose lock is held
-- with a token that is not Paloma's (Paloma locks with a UUID v7 per take; bull 4 with its
-- process's UUID v4).
-- KEYS: 1 active
-- ARGV: 1 key prefix ("<prefix>:<queue>:"), 2 the campaign id
-- Returns 1 when such a job exists, 0 otherwise.
local needle = '"jobUuid":"' .. ARGV[2] .. '"'
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local data = redis.call('HGET', ARGV[1] .. id, 'data')
  if data and string.find(data, needle, 1, true) then
    local lock = redis.call('GET', ARGV[1] .. id .. ':lock')
    if lock and string.sub(lock, 15, 15) ~= '7' then
      return 1
    end
  end
end
return 0
