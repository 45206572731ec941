-- ARGV: 3 attendant, 4 force "1"/"0", 5 source.
if redis.call('EXISTS', S) == 0 then create() end
local mode, holder = mode_of(), redis.call('HGET', S, 'h')
if mode == MODE.human and holder == ARGV[3] then return result(OUTCOME.unchanged, mode) end
if mode == MODE.human and ARGV[4] ~= '1' then return result(OUTCOME.conflict, mode) end
move(MODE.human, H.takeover, ARGV[3], ARGV[5])
return result(OUTCOME.changed, mode)
