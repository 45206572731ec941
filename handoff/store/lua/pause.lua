-- ARGV: 3 actor ("" for none), 4 force "1"/"0", 5 source.
if redis.call('EXISTS', S) == 0 then return '["not_found","","",[],[],""]' end
local mode, holder = mode_of(), redis.call('HGET', S, 'h')
if mode == 'paused' then return result('unchanged', mode) end
if mode == 'human' and holder ~= ARGV[3] and ARGV[4] ~= '1' then
  return result('forbidden', mode)
end
move('paused', H.pause, ARGV[3], ARGV[5])
return result('changed', mode)
