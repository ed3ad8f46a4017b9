-- One page of the reconciler's scan of the jobs that will still be processed: the data of up to
-- `count` ids of one list (wait, paused or active) or of the delayed zset. The caller reads
-- the queue a page per call, so that no call holds Redis for long, in the order and with the
-- cursors docs/bull-protocol.md ("The live scan") explains.
-- KEYS: 1 the list or the delayed zset
-- ARGV: 1 key prefix, 2 'list' or 'zset', 3 count,
--       4 list: index of the first id to read, from the left end;
--         zset: the lowest score to read (inclusive, as Redis printed it, or '-inf'),
--       5 zset: how many ids with exactly that score earlier pages read
-- Returns {ids read, last score read ('' for a list or an empty page), ids read with that
-- score (counting those of earlier pages), {data...}}; ids whose hash is gone are read but
-- give no data. Fewer ids than `count` means the list or zset was read to its end.
local prefix = ARGV[1]
local count = tonumber(ARGV[3])
local out = {}
local function collect(id)
  local data = redis.call('HGET', prefix .. id, 'data')
  if data then
    out[#out + 1] = data
  end
end

if ARGV[2] == 'list' then
  local start = tonumber(ARGV[4])
  local ids = redis.call('LRANGE', KEYS[1], start, start + count - 1)
  for _, id in ipairs(ids) do
    collect(id)
  end
  return { #ids, '', 0, out }
end

local min = ARGV[4]
local skip = tonumber(ARGV[5])
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf', 'WITHSCORES', 'LIMIT', skip,
  count)
local read = #entries / 2
if read == 0 then
  return { 0, '', 0, out }
end
local last = entries[#entries]
local ties = 0
if last == min then
  ties = skip
end
for i = 1, #entries, 2 do
  collect(entries[i])
  if entries[i + 1] == last then
    ties = ties + 1
  end
end
return { read, last, ties, out }
