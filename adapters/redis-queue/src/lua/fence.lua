-- Fences a campaign while a pause or a cancel is stored (docs/bull-protocol.md, "Fencing a
-- campaign"). Refuses when a worker that does not listen to Paloma's stop requests (a Node
-- bull worker) holds a job of the campaign: an id in `active` whose data names it and whose
-- lock token is not Paloma's (Paloma locks with a UUID v7 per take; bull 4 with its process's
-- UUID v4). Otherwise takes every job of the campaign that a worker could still take (in
-- `wait`, `paused` or `delayed`) out of those lists into the campaign's fence hash, where no
-- worker looks, so that none takes it before the move is stored and `unfence.lua` settles or
-- restores it. The fence expires: if the caller dies in between, the jobs are gone from the
-- lists and the reconciler gives a campaign still due a new one.
-- A job of the campaign in `active` without a lock is being taken (a worker moved it there
-- and has not locked it yet) or was left by a dead worker (stalled): with ARGV 4 '0' the
-- script answers -2 and changes nothing, so the caller tries again a moment later; with '1'
-- (the caller has waited long enough for a take to finish) such a job is fenced too.
-- KEYS: 1 active, 2 wait, 3 paused, 4 delayed, 5 priority, 6 the campaign's fence hash,
--       7 stalled
-- ARGV: 1 key prefix ("<prefix>:<queue>:"), 2 the campaign id, 3 the fence's lifetime in ms,
--       4 '1' to fence unlocked active jobs, '0' to answer -2 for them
-- Returns -1 when such a worker holds a job, -2 as above (nothing changed on either), else the
-- number of jobs fenced.
local prefix = ARGV[1]
local needle = '"jobUuid":"' .. ARGV[2] .. '"'

local function names_campaign(id)
  local data = redis.call('HGET', prefix .. id, 'data')
  return data ~= false and string.find(data, needle, 1, true) ~= nil
end

local unlocked = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if names_campaign(id) then
    local lock = redis.call('GET', prefix .. id .. ':lock')
    if not lock then
      unlocked[#unlocked + 1] = id
    elseif string.sub(lock, 15, 15) ~= '7' then
      return -1
    end
  end
end
if #unlocked > 0 and ARGV[4] ~= '1' then
  return -2
end

local fenced = 0
for _, id in ipairs(unlocked) do
  redis.call('LREM', KEYS[1], 0, id)
  redis.call('SREM', KEYS[7], id)
  redis.call('HSET', KEYS[6], id, 'active')
  fenced = fenced + 1
end
for _, list in ipairs({ KEYS[2], KEYS[3] }) do
  for _, id in ipairs(redis.call('LRANGE', list, 0, -1)) do
    if names_campaign(id) then
      redis.call('LREM', list, 0, id)
      redis.call('ZREM', KEYS[5], id)
      redis.call('HSET', KEYS[6], id, 'waiting')
      fenced = fenced + 1
    end
  end
end
local delayed = redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES')
for i = 1, #delayed, 2 do
  local id = delayed[i]
  if names_campaign(id) then
    redis.call('ZREM', KEYS[4], id)
    redis.call('HSET', KEYS[6], id, 'delayed:' .. delayed[i + 1])
    fenced = fenced + 1
  end
end
if fenced > 0 then
  redis.call('PEXPIRE', KEYS[6], tonumber(ARGV[3]))
end
return fenced
