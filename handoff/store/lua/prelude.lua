-- Shared by every script. Mirrors handoff/machine.py: keep the two in step.
-- KEYS: 1 session hash, 2 metadata hash, 3 events list, 4/5/6 agent/human/paused index zsets,
-- 7 the outbox stream of this phone's shard.
-- ARGV: 1 now (Unix seconds, kept as the caller's string), 2 phone; the rest per script.
-- The constants MODE, SENDER, REASON, OUTCOME, K (event kinds), H (history names), RECENT_TEXTS,
-- TRANSCRIPT_MAX and PROFILE_NAME come from Python, rendered above this prelude by handoff/store/redis.py.
local S, M, E, OB = KEYS[1], KEYS[2], KEYS[3], KEYS[7]
local INDEX = {[MODE.agent] = KEYS[4], [MODE.human] = KEYS[5], [MODE.paused] = KEYS[6]}
local now, phone = ARGV[1], ARGV[2]
local logged = ''

local function mode_of()
  return redis.call('HGET', S, 'm')
end

local function create()
  redis.call('HSET', S, 'p', phone, 'm', MODE.agent, 'c', now, 'u', now)
  redis.call('ZADD', INDEX[MODE.agent], 0, phone)
end

local function quote(v)
  if v == nil or v == false or v == '' then return 'null' end
  return cjson.encode(v)
end

local function given(v)
  if v == nil or v == false or v == '' then return nil end
  return v
end

-- A transcript line, numbered from the session's count, kept to the last TRANSCRIPT_MAX.
local function say(key, line)
  line.n = redis.call('HINCRBY', S, 'xn', 1)
  redis.call('RPUSH', key, cjson.encode(line))
  redis.call('LTRIM', key, -TRANSCRIPT_MAX, -1)
end

-- The customer's WhatsApp name (metadata, JSON), as Session.profile_name reads it.
local function profile_name()
  local raw = redis.call('HGET', M, PROFILE_NAME)
  if not raw then return nil end
  local ok, name = pcall(cjson.decode, raw)
  if not ok or type(name) ~= 'string' then return nil end
  name = string.match(name, '^%s*(.-)%s*$')
  return given(name)
end

-- Append an event to the outbox, in the same script (so the same atomic step) as the change.
local function emit_raw(kind, data)
  redis.call('XADD', OB, '*', 'k', kind, 'p', phone, 'd', data)
end

local function emit(kind, fields)
  emit_raw(kind, cjson.encode(fields))
end

-- Change mode, keep the index and log the event, exactly as machine._move does.
local function move(to, event, actor, source)
  local from = mode_of()
  if from == 'agent' then redis.call('HSET', S, 'nc', 0, 'nh', 0) end
  redis.call('HSET', S, 'm', to, 'u', now)
  if to == MODE.paused then
    redis.call('HSET', S, 'pa', now)
    redis.call('HDEL', S, 'h', 'ta')
  elseif to == MODE.human then
    redis.call('HSET', S, 'h', actor, 'ta', now)
  else
    redis.call('HDEL', S, 'h', 'pa', 'ta')
  end
  redis.call('ZREM', INDEX[from], phone)
  local score = now
  if to == MODE.agent then score = redis.call('HGET', S, 'lcm') or 0 end
  redis.call('ZADD', INDEX[to], score, phone)
  logged = '{"at":' .. now .. ',"event":"' .. event .. '","actor":' .. quote(actor)
    .. ',"source":' .. quote(source) .. ',"from_mode":"' .. from .. '","to_mode":"' .. to .. '"}'
  redis.call('RPUSH', E, logged)
  emit(K.mode_changed, {at = now, event = event, actor = given(actor), source = source,
    from_mode = from, to_mode = to, holder = given(redis.call('HGET', S, 'h')),
    paused_at = given(redis.call('HGET', S, 'pa')), taken_at = given(redis.call('HGET', S, 'ta'))})
end

-- The answer for an unknown phone: no session.
local function missing()
  return cjson.encode({OUTCOME.not_found, '', '', {}, {}, ''})
end

-- One JSON string (cheaper for the client to read than a nested reply): outcome, previous
-- mode, reason, session fields, metadata fields, the event logged ('' none).
local function result(outcome, previous, reason)
  return cjson.encode({outcome, previous or '', reason or '', redis.call('HGETALL', S),
    redis.call('HGETALL', M), logged})
end
