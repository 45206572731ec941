-- KEYS[8] dedupe key, KEYS[9] the customer's recent texts, KEYS[10] the transcript. ARGV: 3 sender, 4 text, 5 source,
-- 6 attendant, 7 escalate "1"/"0", 8 has message id "1"/"0", 9 dedupe ttl ms ("0": keep),
-- 10 deliver to the customer "1"/"0" (an attendant's message), 11 its origin ("" none),
-- 12 the file that came with it, as JSON ("" none), 13.. metadata field/json pairs.
if ARGV[8] == '1' then
  local ok
  if ARGV[9] == '0' then
    ok = redis.call('SET', KEYS[8], '1', 'NX')
  else
    ok = redis.call('SET', KEYS[8], '1', 'NX', 'PX', ARGV[9])
  end
  if not ok then return result(OUTCOME.unchanged, mode_of(), REASON.duplicate) end
end
if redis.call('EXISTS', S) == 0 then create() end
local media = nil
if ARGV[12] ~= '' then media = cjson.decode(ARGV[12]) end
say(KEYS[10], {at = now, sender = ARGV[3], text = ARGV[4],
  attendant = ARGV[3] == SENDER.human and given(ARGV[6]) or nil, media = media})
local previous = mode_of()
redis.call('HSET', S, 'u', now)
if #ARGV >= 13 then redis.call('HSET', M, unpack(ARGV, 13)) end
local sender, mode = ARGV[3], previous
local outcome, reason = OUTCOME.unchanged, REASON.recorded
if sender == SENDER.customer then
  redis.call('HSET', S, 'lcm', now, 'lct', ARGV[4])
  redis.call('LPUSH', KEYS[9], ARGV[4])
  redis.call('LTRIM', KEYS[9], 0, RECENT_TEXTS - 1)
  if mode == MODE.agent and ARGV[7] == '1' then
    move(MODE.paused, H.escalation_requested, phone, ARGV[5])
    outcome, reason = OUTCOME.changed, REASON.escalation_requested
  elseif mode == MODE.agent then
    redis.call('ZADD', INDEX[MODE.agent], now, phone)
    reason = REASON.agent_active
  elseif mode == MODE.paused then
    reason = REASON.waiting_human
  else
    reason = REASON.human_active
  end
elseif sender == SENDER.human then
  redis.call('HSET', S, 'lhm', now)
  if mode ~= MODE.human then
    move(MODE.human, H.takeover, ARGV[6], ARGV[5])
    outcome = OUTCOME.changed
  end
end
if mode_of() ~= MODE.agent then
  if sender == SENDER.customer then redis.call('HINCRBY', S, 'nc', 1)
  elseif sender == SENDER.human then redis.call('HINCRBY', S, 'nh', 1) end
end
if sender == SENDER.customer and (reason == REASON.waiting_human or reason == REASON.human_active) then
  emit(K.customer_message, {at = now, text = ARGV[4], mode = mode_of(), name = profile_name(),
    media = media})
elseif sender == SENDER.human and ARGV[10] == '1' then
  emit(K.attendant_message, {at = now, text = ARGV[4], attendant = ARGV[6],
    origin = given(ARGV[11]), media = media})
end
return result(outcome, previous, reason)
