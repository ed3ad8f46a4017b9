-- Reserves the next send slot under a rate shared by every worker (GCRA: the key holds the
-- "theoretical arrival time" of the next free slot, in microseconds of the Redis clock).
-- KEYS[1] the throttle key
-- ARGV[1] interval between two messages, microseconds
-- ARGV[2] the furthest ahead a slot may be reserved, microseconds
-- Returns {1, wait_us} when a slot was reserved (send after wait_us), or {0, retry_us} when
-- every slot within the horizon is taken.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
  tat = now
end
local wait = tat - now
if wait > horizon then
  return {0, wait - horizon}
end
local next_tat = tat + interval
-- Expires once it no longer matters; %.0f keeps large numbers out of exponent notation.
redis.call('SET', KEYS[1], string.format('%.0f', next_tat),
  'PX', string.format('%.0f', math.ceil((next_tat - now) / 1000) + 1000))
return {1, wait}
