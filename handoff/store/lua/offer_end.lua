-- Close an offer once, with its event; a decline or a timeout passes the attendant over.
-- KEYS: 1 the offer hash, 2 the open-offers zset, 3 the outbox stream of this phone's shard.
-- ARGV: 1 key prefix, 2 phone, 3 at, 4 outcome, 5 now, 6 attendant ('' for anyone),
-- 7 '1' to close only an expired offer, 8 event kind, 9 seconds the passed-over are kept.
local o = redis.call('HMGET', KEYS[1], 'a', 'at', 'x', 'r', 'ep')
if not o[1] or o[2] ~= ARGV[3] then return false end
if ARGV[6] ~= '' and o[1] ~= ARGV[6] then return false end
if ARGV[7] == '1' and tonumber(o[3]) > tonumber(ARGV[5]) then return false end
local found = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if ARGV[4] == 'declined' or ARGV[4] == 'timeout' then
  local tried = ARGV[1] .. 'o:tried:' .. ARGV[2] .. ':' .. o[5]
  redis.call('SADD', tried, o[1])
  redis.call('EXPIRE', tried, ARGV[9])
end
redis.call('XADD', KEYS[3], '*', 'k', ARGV[8], 'p', ARGV[2], 'd', cjson.encode({
  at = ARGV[5], offered_at = o[2], attendant = o[1], outcome = ARGV[4], reason = o[4]}))
return found
