-- A history line, transcript lines and events with no change of state (a note, a page, a
-- delivery report). KEYS[8] a claim that must be first (ARGV[4] "" when none), KEYS[9] the
-- transcript. ARGV: 3 the history line as JSON ("" none), 4 the claim's time to live in ms
-- ("" no claim), 5 how many transcript lines n, 6..5+n each as JSON, then kind/data pairs.
-- Returns 0, and does nothing, for an unknown phone or a claim already taken.
if redis.call('EXISTS', S) == 0 then return 0 end
if ARGV[4] ~= '' and not redis.call('SET', KEYS[8], '1', 'NX', 'PX', ARGV[4]) then return 0 end
if ARGV[3] ~= '' then redis.call('RPUSH', E, ARGV[3]) end
local n = tonumber(ARGV[5])
for i = 6, 5 + n do say(KEYS[9], cjson.decode(ARGV[i])) end
for i = 6 + n, #ARGV, 2 do emit_raw(ARGV[i], ARGV[i + 1]) end
return 1
