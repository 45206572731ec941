-- ARGV: 3 attendant ("" for none), 4 force "1"/"0", 5 source.
if redis.call('EXISTS', S) == 0 then return {'not_found', '', '', {}, {}, ''} end
local mode, holder = mode_of(), redis.call('HGET', S, 'h')
if mode == 'agent' then return result('unchanged', mode) end
if ARGV[3] ~= '' and holder and holder ~= ARGV[3] and ARGV[4] ~= '1' then
  return result('forbidden', mode)
end
move('agent', 'release', ARGV[3], ARGV[5])
return result('changed', mode)
