-- Hold an open offer for its takeover (Aceitar), if it is still this attendant's.
-- KEYS: 1 the offer hash, 2 the open-offers zset. ARGV: 1 phone, 2 attendant, 3 at, 4 now,
-- 5 until when it is held.
local o = redis.call('HMGET', KEYS[1], 'a', 'at', 'x', 'k')
if o[1] ~= ARGV[2] or o[2] ~= ARGV[3] or o[4] or tonumber(o[3]) <= tonumber(ARGV[4]) then
  return false
end
redis.call('HSET', KEYS[1], 'k', '1', 'x', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
return redis.call('HGETALL', KEYS[1])
