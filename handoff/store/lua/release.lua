-- ARGV: 3 attendant ("" for none), 4 force "1"/"0", 5 source, 6 idle_before ("" for none).
if redis.call('EXISTS', S) == 0 then return missing() end
local mode, holder = mode_of(), redis.call('HGET', S, 'h')
if mode == MODE.agent then return result(OUTCOME.unchanged, mode) end
if ARGV[3] ~= '' and holder and holder ~= ARGV[3] and ARGV[4] ~= '1' then
  return result(OUTCOME.forbidden, mode)
end
local event = H.release
if ARGV[6] ~= '' then
  local f = redis.call('HMGET', S, 'lcm', 'lhm', 'ta')
  local last = math.max(tonumber(f[1]) or 0, tonumber(f[2]) or 0, tonumber(f[3]) or 0)
  if last > tonumber(ARGV[6]) then return result(OUTCOME.unchanged, mode) end
  event = H.auto_release
end
move(MODE.agent, event, ARGV[3], ARGV[5])
return result(OUTCOME.changed, mode)
