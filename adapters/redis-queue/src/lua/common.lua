-- Paloma's own helpers, prepended to every script of this adapter.
-- Times come from the Redis server clock (TIME), so every worker agrees on "now".

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Integers beyond 14 digits would be printed in exponent form by Lua's tostring.
local function int_str(n)
  return string.format('%.0f', n)
end

-- The job options as a table; {} when missing or not a JSON object.
local function read_opts(job_key)
  local raw = redis.call('HGET', job_key, 'opts')
  if not raw then
    return {}
  end
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then
    return decoded
  end
  return {}
end

-- The low 12 bits of a numeric job id (what bull mixes into delayed scores); 0 otherwise.
local function id_bits(id)
  if string.match(id, '^%d+$') then
    return tonumber(id) % 4096
  end
  return 0
end

-- While the queue is globally paused, waiting jobs go to the paused list.
local function waiting_list(wait_key, paused_key, meta_paused_key)
  if redis.call('EXISTS', meta_paused_key) == 1 then
    return paused_key
  end
  return wait_key
end

-- Puts an id on a waiting list. Plain jobs enter at the tail (left), lifo jobs at the head
-- (right); prioritized jobs sit at the head end ordered by ascending priority, FIFO within one
-- priority, and are indexed in the priority zset.
local function push_waiting(list_key, priority_key, id, priority, lifo)
  if priority > 0 then
    redis.call('ZADD', priority_key, priority, id)
    local ahead = redis.call('ZCOUNT', priority_key, 0, priority)
    local len = redis.call('LLEN', list_key)
    local pivot = redis.call('LINDEX', list_key, len - (ahead - 1))
    if pivot then
      redis.call('LINSERT', list_key, 'BEFORE', pivot, id)
    else
      redis.call('RPUSH', list_key, id)
    end
  elseif lifo then
    redis.call('RPUSH', list_key, id)
  else
    redis.call('LPUSH', list_key, id)
  end
end

-- 0 when `token` holds the job's lock, -2 when there is no lock, -6 when another owner has it.
local function check_lock(lock_key, token)
  local owner = redis.call('GET', lock_key)
  if not owner then
    return -2
  end
  if owner ~= token then
    return -6
  end
  return 0
end

-- Takes a job we hold out of `active`: checks that the job exists, that `token` holds its lock
-- and that it is in `active`, then removes it from `active`, drops the lock and its stalled
-- mark. Returns 0, or -1 job missing, -2 lock missing, -6 lock owned by another worker, -3 job
-- not in active; on a negative code nothing was changed.
local function take_out_of_active(job_key, id, token, active_key, stalled_key)
  if redis.call('EXISTS', job_key) == 0 then
    return -1
  end
  local lock = check_lock(job_key .. ':lock', token)
  if lock ~= 0 then
    return lock
  end
  if redis.call('LREM', active_key, -1, id) == 0 then
    return -3
  end
  redis.call('DEL', job_key .. ':lock')
  redis.call('SREM', stalled_key, id)
  return 0
end

-- Drops the debounce key that still points at this job, unless it expires by itself.
local function clear_debounce(prefix, job_key, id)
  local deid = redis.call('HGET', job_key, 'deid')
  if deid then
    local de_key = prefix .. 'de:' .. deid
    if redis.call('GET', de_key) == id and redis.call('PTTL', de_key) == -1 then
      redis.call('DEL', de_key)
    end
  end
end

local function delete_job(prefix, id)
  redis.call('DEL', prefix .. id, prefix .. id .. ':logs', prefix .. id .. ':lock')
end

-- Records a finished job in `set` (completed or failed) according to its keep option
-- (removeOnComplete / removeOnFail), as bull 4.16's moveToFinished reads it: true or 0 keeps
-- nothing (the job is deleted, not added), a number N > 0 keeps the newest N (by finishedOn),
-- {age = seconds, count = N} trims by both, absent, false or a negative number keeps everything.
local function finish_job(prefix, set_key, id, now, field, value, keep)
  local count = -1
  local age = nil
  if keep == true then
    count = 0
  elseif type(keep) == 'number' then
    count = keep
  elseif type(keep) == 'table' then
    count = tonumber(keep.count) or -1
    age = tonumber(keep.age)
  end
  local job_key = prefix .. id
  clear_debounce(prefix, job_key, id)
  if count == 0 then
    delete_job(prefix, id)
    return
  end
  redis.call('ZADD', set_key, int_str(now), id)
  redis.call('HSET', job_key, field, value, 'finishedOn', int_str(now))
  if count > 0 then
    local old = redis.call('ZREVRANGE', set_key, count, -1)
    for _, old_id in ipairs(old) do
      delete_job(prefix, old_id)
    end
    if #old > 0 then
      redis.call('ZREMRANGEBYRANK', set_key, 0, -(count + 1))
    end
  end
  if age then
    local limit = int_str(now - age * 1000)
    local old = redis.call('ZRANGEBYSCORE', set_key, '-inf', limit)
    for _, old_id in ipairs(old) do
      delete_job(prefix, old_id)
    end
    if #old > 0 then
      redis.call('ZREMRANGEBYSCORE', set_key, '-inf', limit)
    end
  end
end

