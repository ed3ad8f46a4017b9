-- Paloma's campaign claim: at most one job sends a campaign at a time, whatever number of
-- jobs name it. The claim holds `<job id>\n<lock token>` of the job that has it and expires
-- with the job's lock unless extended.
-- KEYS: 1 claim key
-- ARGV: 1 job id, 2 the job's lock token, 3 duration (ms), 4 '1' to drop the claim, '0' to
--       take or extend it
-- Returns 1 when the claim is (or was, for a drop) ours or free, 0 when another job holds it.
local job_prefix = ARGV[1] .. '\n'
local mine = job_prefix .. ARGV[2]
local owner = redis.call('GET', KEYS[1])
if ARGV[4] == '1' then
  if owner == mine then
    redis.call('DEL', KEYS[1])
  end
  return 1
end
-- A claim left by an earlier take of this same job is stale: that take lost the job's lock
-- (the job came back through the stalled check), so it can no longer send.
if owner and owner ~= mine and string.sub(owner, 1, #job_prefix) ~= job_prefix then
  return 0
end
redis.call('SET', KEYS[1], mine, 'PX', ARGV[3])
return 1
