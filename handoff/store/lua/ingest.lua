-- KEYS[7] dedupe key, KEYS[8] the customer's recent texts. ARGV: 3 sender, 4 text, 5 source, 6 attendant, 7 escalate "1"/"0",
-- 8 has message id "1"/"0", 9 dedupe ttl ms ("0": keep), 10.. metadata field/json pairs.
if ARGV[8] == '1' then
  local ok
  if ARGV[9] == '0' then
    ok = redis.call('SET', KEYS[7], '1', 'NX')
  else
    ok = redis.call('SET', KEYS[7], '1', 'NX', 'PX', ARGV[9])
  end
  if not ok then return result('unchanged', mode_of(), 'duplicate') end
end
if redis.call('EXISTS', S) == 0 then create() end
local previous = mode_of()
redis.call('HSET', S, 'u', now)
if #ARGV >= 10 then redis.call('HSET', M, unpack(ARGV, 10)) end
local sender, mode = ARGV[3], previous
local outcome, reason = 'unchanged', 'recorded'
if sender == 'customer' then
  redis.call('HSET', S, 'lcm', now, 'lct', ARGV[4])
  redis.call('LPUSH', KEYS[8], ARGV[4])
  redis.call('LTRIM', KEYS[8], 0, 4)
  if mode == 'agent' and ARGV[7] == '1' then
    move('paused', 'escalation_requested', phone, ARGV[5])
    outcome, reason = 'changed', 'escalation_requested'
  elseif mode == 'agent' then
    redis.call('ZADD', INDEX.agent, now, phone)
    reason = 'agent_active'
  elseif mode == 'paused' then
    reason = 'waiting_human'
  else
    reason = 'human_active'
  end
elseif sender == 'human' then
  redis.call('HSET', S, 'lhm', now)
  if mode ~= 'human' then
    move('human', 'takeover', ARGV[6], ARGV[5])
    outcome = 'changed'
  end
end
if mode_of() ~= 'agent' then
  if sender == 'customer' then redis.call('HINCRBY', S, 'nc', 1)
  elseif sender == 'human' then redis.call('HINCRBY', S, 'nh', 1) end
end
return result(outcome, previous, reason)
