-- A history line and events with no change of state (a note, a page, a delivery report).
-- KEYS[8] a claim that must be first ("" when none: ARGV[4] is then ""). ARGV: 3 the history
-- line as JSON ("" none), 4 the claim's time to live in ms ("" no claim), 5.. kind/data pairs.
-- Returns 0, and does nothing, for an unknown phone or a claim already taken.
if redis.call('EXISTS', S) == 0 then return 0 end
if ARGV[4] ~= '' and not redis.call('SET', KEYS[8], '1', 'NX', 'PX', ARGV[4]) then return 0 end
if ARGV[3] ~= '' then redis.call('RPUSH', E, ARGV[3]) end
for i = 5, #ARGV, 2 do emit_raw(ARGV[i], ARGV[i + 1]) end
return 1
