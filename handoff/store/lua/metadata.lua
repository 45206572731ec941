-- ARGV: 3.. metadata field/json pairs. Never creates a session.
if redis.call('EXISTS', S) == 0 then return '["not_found","","",[],[],""]' end
redis.call('HSET', S, 'u', now)
if #ARGV >= 3 then redis.call('HSET', M, unpack(ARGV, 3)) end
return result('changed', mode_of())
