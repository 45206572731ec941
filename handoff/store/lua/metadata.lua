-- ARGV: 3 how many events n, 4..3+2n their kind/data pairs, then metadata field/json pairs.
-- Never creates a session.
if redis.call('EXISTS', S) == 0 then return missing() end
redis.call('HSET', S, 'u', now)
local n = tonumber(ARGV[3])
local first = 4 + 2 * n
if #ARGV >= first then redis.call('HSET', M, unpack(ARGV, first)) end
for i = 4, first - 1, 2 do emit_raw(ARGV[i], ARGV[i + 1]) end
return result(OUTCOME.changed, mode_of())
