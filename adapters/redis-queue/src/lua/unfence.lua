-- Ends a campaign's fence (`fence.lua`) once the move is stored or refused. `settle`: the
-- move stopped the campaign (paused or cancelled), so its fenced jobs are done and go to
-- `completed` as bull records a finished job, with ARGV 4 as their return value; a resume
-- adds a new job. `restore`: the move did not happen, so each job goes back where it was: a
-- waiting one to the head of the waiting list (it is taken next, as it was about to be), a
-- delayed one to `delayed` with its old score, an unlocked active one (stalled) to `active`,
-- where the stalled check finds it.
-- KEYS: 1 the campaign's fence hash, 2 wait, 3 paused, 4 meta-paused, 5 delayed, 6 priority,
--       7 completed, 8 active
-- ARGV: 1 key prefix, 2 'settle' or 'restore', 3 process token, 4 return value JSON
-- Returns the number of jobs settled or restored.
local prefix = ARGV[1]
local fenced = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
local done = 0
local now = now_ms()
for i = 1, #fenced, 2 do
  local id, origin = fenced[i], fenced[i + 1]
  local job_key = prefix .. id
  if redis.call('EXISTS', job_key) == 1 then
    if ARGV[2] == 'settle' then
      local opts = read_opts(job_key)
      finish_job(prefix, KEYS[7], id, now, 'returnvalue', ARGV[4], opts.removeOnComplete)
      redis.call('PUBLISH', prefix .. 'completed', cjson.encode({ jobId = id }))
    elseif origin == 'waiting' then
      local priority = tonumber(redis.call('HGET', job_key, 'priority')) or 0
      push_waiting(waiting_list(KEYS[2], KEYS[3], KEYS[4]), KEYS[6], id, priority, true)
      redis.call('PUBLISH', prefix .. 'waiting@' .. ARGV[3], id)
    elseif origin == 'active' then
      redis.call('LPUSH', KEYS[8], id)
    else
      redis.call('ZADD', KEYS[5], string.sub(origin, 9), id)
    end
    done = done + 1
  end
end
return done
