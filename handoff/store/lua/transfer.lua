-- ARGV: 3 to, 4 actor, 5 the holder expected ("" any), 6 force "1"/"0", 7 source.
-- Mirrors machine.transfer.
if redis.call('EXISTS', S) == 0 then return missing() end
local mode, holder = mode_of(), redis.call('HGET', S, 'h')
if mode ~= MODE.human or not holder then return result(OUTCOME.not_held, mode) end
if ARGV[5] ~= '' and ARGV[5] ~= holder then return result(OUTCOME.conflict, mode) end
if ARGV[3] == holder then return result(OUTCOME.same, mode) end
if ARGV[4] ~= holder and ARGV[6] ~= '1' then return result(OUTCOME.forbidden, mode) end
redis.call('HSET', S, 'h', ARGV[3], 'ta', now, 'u', now)
redis.call('ZADD', INDEX[MODE.human], now, phone)
logged = '{"at":' .. now .. ',"event":"' .. H.transfer .. '","actor":' .. quote(ARGV[4])
  .. ',"source":' .. quote(ARGV[7]) .. ',"from_mode":"' .. MODE.human .. '","to_mode":"'
  .. MODE.human .. '","to":' .. quote(ARGV[3]) .. '}'
redis.call('RPUSH', E, logged)
emit(K.transferred, {at = now, by = ARGV[4], from_attendant = holder, to = ARGV[3],
  source = ARGV[7]})
return result(OUTCOME.changed, mode)
