-- Put one offer on the book, atomically with every check (see handoff/offers.py).
-- KEYS: 1 the offer hash, 2 the open-offers zset, 3 who was passed over this wait (set),
-- 4 the session hash, 5 the human index zset, 6 the outbox stream of this phone's shard.
-- ARGV: 1 key prefix, 2 phone, 3 attendant, 4 at, 5 expires, 6 reason, 7 episode,
-- 8 holder ('' for a waiting customer), 9 limit, 10 event kind, 11 event data (JSON).
-- Loads are counted from the human index and the open offers: small sets, read in full.
if redis.call('EXISTS', KEYS[1]) == 1 then return 'busy' end
local state = redis.call('HMGET', KEYS[4], 'm', 'pa', 'h')
if ARGV[6] == 'waiting' then
  if state[1] ~= 'paused' or state[2] ~= ARGV[7] then return 'moved' end
elseif state[1] ~= 'human' or state[3] ~= ARGV[8] then
  return 'moved'
end
if redis.call('SISMEMBER', KEYS[3], ARGV[3]) == 1 then return 'tried' end
local load = 0
for _, p in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
  if redis.call('HGET', ARGV[1] .. 's:' .. p, 'h') == ARGV[3] then load = load + 1 end
end
for _, p in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('HGET', ARGV[1] .. 'o:' .. p, 'a') == ARGV[3] then load = load + 1 end
end
if load >= tonumber(ARGV[9]) then return 'full' end
redis.call('HSET', KEYS[1], 'a', ARGV[3], 'at', ARGV[4], 'x', ARGV[5], 'r', ARGV[6],
  'ep', ARGV[7], 'h', ARGV[8])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[2])
redis.call('XADD', KEYS[6], '*', 'k', ARGV[10], 'p', ARGV[2], 'd', ARGV[11])
return 'offered'
