-- ARGV: 3 actor ("" for none), 4 force "1"/"0", 5 source.
if redis.call('EXISTS', S) == 0 then return missing() end
local mode, holder = mode_of(), redis.call('HGET', S, 'h')
if mode == MODE.paused then return result(OUTCOME.unchanged, mode) end
if mode == MODE.human and holder ~= ARGV[3] and ARGV[4] ~= '1' then
  return result(OUTCOME.forbidden, mode)
end
move(MODE.paused, H.pause, ARGV[3], ARGV[5])
return result(OUTCOME.changed, mode)
