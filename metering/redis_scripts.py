"""The metering scripts Redis runs: each one request's whole check-and-charge, atomically.

Every key a script names shares its subject's hash tag (one cluster slot). Each call also
names a `once` key of its own (a random token, same tag): the first run that writes keeps
its reply there for `ONCE_MS`, and a call that finds it returns that reply and changes
nothing. A client that re-sends a call whose reply it lost (redis-py retries a command on a
dropped connection, also when the script had run) therefore charges or credits once.
A refusal writes nothing, so it keeps nothing either: re-run, it decides afresh.
"""

from __future__ import annotations

ONCE_MS = 10_000
"""How long a reply is kept for a re-sent call: beyond every retry the client makes."""

# Credits are whole numbers from 0 to MAX_CREDITS (10^15 < 2^53): exact in Lua's doubles, and
# written back with '%.0f' (Redis would format a Lua number with 14 or 17 digits, "1e+20").
# A stored balance of any other shape is unreadable: refused, never a guess.
_BALANCE = """
local function balance(stored)
  if not stored then return nil end
  if #stored > 16 or not string.match(stored, '^%d+$') then return false end
  local number = tonumber(stored)
  if number > tonumber(ARGV[#ARGV]) then return false end
  return number
end
"""


_REPLAY = """
local once = KEYS[#KEYS]
local replayed = redis.call('GET', once)
if replayed then return cjson.decode(replayed) end
"""


def _once(body: str, wrote: str) -> str:
    """`body` run once per call: its reply kept under the last key when `wrote` is true of
    it (cjson keeps strings strings, and numbers exact to 14 digits: ms timestamps fit)."""
    return (
        _BALANCE
        + _REPLAY
        + "local function run()\n"
        + body
        + "end\nlocal reply = run()\n"
        + f"if {wrote} then\n"
        + f"  redis.call('SET', once, cjson.encode(reply), 'PX', {ONCE_MS})\n"
        + "end\nreturn reply\n"
    )


CHARGE = _once(
    """local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local keyed, cost = ARGV[1] == '1', tonumber(ARGV[2])
local credits = nil
if keyed then
  local record = redis.call('HMGET', KEYS[1], 'revoked', 'credits')
  if record[1] ~= '0' then return {'invalid_key', now} end
  credits = balance(record[2])
  if credits == false then return {'unreadable', now} end
  if credits and credits < cost then
    return {'insufficient_credits', now, string.format('%.0f', credits)}
  end
end
local reply = {'admitted', now, -1}
if credits then reply[3] = string.format('%.0f', credits) end
local writes = {}
for i = 2, #KEYS - 1 do
  local a = 3 * (i - 1)
  local units, limit, period = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local window = math.floor(now / period)
  local saved = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
  local w, c, p = tonumber(saved[1]), tonumber(saved[2]) or 0, tonumber(saved[3]) or 0
  if w == nil or w < window - 1 then
    w, c, p = window, 0, 0
  elseif w == window - 1 then
    w, c, p = window, 0, c
  end
  local start = w * period
  local elapsed = math.min(math.max(now - start, 0), period)
  local weighted = p * (period - elapsed) + c * period
  local after, left, retry = c, -1, -1
  if weighted + units * period <= limit * period then
    after = c + units
    left = math.floor((limit * period - weighted - units * period) / period)
    table.insert(writes, {KEYS[i], w, after, p, period})
  else
    reply[1] = 'rate_limited'
    if c + units <= limit then
      retry = start + period - math.floor((limit - c - units) * period / p)
    elseif units > limit then
      retry = -2
    else
      retry = start + 2 * period - math.floor((limit - units) * period / c)
    end
  end
  local reset = now
  if after > 0 then reset = start + 2 * period elseif p > 0 then reset = start + period end
  for _, v in ipairs({limit, left, reset, retry}) do table.insert(reply, v) end
end
if reply[1] ~= 'admitted' then return reply end
for _, s in ipairs(writes) do
  redis.call('HSET', s[1], 'w', s[2], 'c', s[3], 'p', s[4])
  redis.call('PEXPIRE', s[1], 2 * s[5] + 1000)
end
if keyed then
  if credits then
    reply[3] = string.format('%.0f', credits - cost)
    redis.call('HSET', KEYS[1], 'credits', reply[3])
  end
  redis.call('HINCRBY', KEYS[1], 'requests', 1)
  redis.call('HINCRBY', KEYS[1], 'spent', cost)
  redis.call('HSET', KEYS[1], 'last_used', now / 1000)
end
return reply
""",
    "reply[1] == 'admitted'",
)
"""KEYS: the subject's record, one rate window per rate class, `once`. ARGV: keyed (1/0),
cost, then units, limit and period per window, then MAX_CREDITS."""

CREDIT = _once(
    """local record = redis.call('HMGET', KEYS[1], 'credits', 'revoked')
if not record[2] then return {'missing'} end
if not record[1] then return {'unlimited'} end
local credits = balance(record[1])
if credits == false then return {'unreadable'} end
local after = credits + tonumber(ARGV[1])
if after < 0 or after > tonumber(ARGV[#ARGV]) then return {'refused'} end
redis.call('HSET', KEYS[1], 'credits', string.format('%.0f', after))
return {'ok'}
""",
    "reply[1] == 'ok'",
)
"""KEYS: the key's record, `once`. ARGV: the amount (may be negative), MAX_CREDITS."""
