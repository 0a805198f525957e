"""Budget scopes in Redis (which scopes a caller has is ``switchyard_llm.budget_scopes``) and the
admission amount."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """A scope's limit as an admission request carries it (from the caller's principal)."""

    max_budget: Decimal | None
    budget_duration: str | None
    version: int


def scope_key(account_id: str, kind: str, scope_id: str) -> str:
    """Redis hash of one scope. One hash tag for all budget keys so the Lua scripts, which
    touch several scopes at once, also run on Redis Cluster."""
    return f"{{sy:budget}}:scope:{account_id}:{kind}:{scope_id}"


def reservation_key(reservation_id: str) -> str:
    return f"{{sy:budget}}:res:{reservation_id}"


EXPIRY_ZSET = "{sy:budget}:res-expiry"

# Every reservation (one request) and lease (many requests of one edge replica) is a hash
# {granted, settled, scopes, closed}: `granted` is held in each scope's `reserved`; usage events
# move their cost from `reserved` to `spent` (at most what is still held); what is left is given
# back when the reservation is final, the lease is returned, or either expires.

# KEYS: scope hashes (n), reservation key, expiry zset.
# ARGV: need, want, reservation id, expiry (unix seconds), n, scope cache ttl, lease fraction,
# then per scope the least version of its limit the caller knows of (0: any).
# Returns {1, granted} admitted (also for a repeated id), {0, scope, spent, limit} refused,
# {-1, scope} a scope is not loaded or holds an older limit than the caller knows of (the caller
# loads it from PostgreSQL, storing the newer limit first, and retries).
# A scope with no room left refuses even a request that claims to cost nothing (a limit of 0
# means no spending at all, and a zero estimate is no proof of a free call).
RESERVE_LUA = """
local n = tonumber(ARGV[5])
local need = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local existing = redis.call('HGET', KEYS[n + 1], 'granted')
if existing then return {1, existing} end
local headroom = nil
for i = 1, n do
  local h = redis.call('HMGET', KEYS[i], 'loaded', 'limit', 'spent', 'reserved', 'version')
  if not h[1] then return {-1, KEYS[i]} end
  if (tonumber(h[5] or '0') or 0) < tonumber(ARGV[7 + i]) then return {-1, KEYS[i]} end
  if h[2] and h[2] ~= '' then
    local spent = tonumber(h[3] or '0') or 0
    local reserved = tonumber(h[4] or '0') or 0
    local room = tonumber(h[2]) - spent - reserved
    if room <= 0 or room < need then return {0, KEYS[i], tostring(spent), h[2]} end
    if headroom == nil or room < headroom then headroom = room end
  end
end
local grant = want
if headroom ~= nil then
  grant = math.min(want, math.max(need, headroom * tonumber(ARGV[7])))
end
local g = string.format('%.12f', grant)
for i = 1, n do
  redis.call('HINCRBYFLOAT', KEYS[i], 'reserved', g)
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[6]))
end
redis.call('HSET', KEYS[n + 1], 'granted', g, 'settled', '0', 'scopes', table.concat(KEYS, '|', 1, n))
redis.call('EXPIREAT', KEYS[n + 1], tonumber(ARGV[4]) + 3600)
redis.call('ZADD', KEYS[n + 2], ARGV[4], ARGV[3])
return {1, g}
"""

# Gives back `amount` of a reservation's hold on its scopes (scopes evicted from the cache are
# skipped: they reload from PostgreSQL, which has no holds).
_RELEASE_FN = """
local function release(scopes, amount)
  if amount <= 0 then return end
  for scope in string.gmatch(scopes, '[^|]+') do
    if redis.call('EXISTS', scope) == 1 then
      redis.call('HINCRBYFLOAT', scope, 'reserved', string.format('%.12f', -amount))
    end
  end
end
"""

# KEYS: reservation key, expiry zset, then scope hashes to charge.
# ARGV: reservation id, actual cost, final (1 = close the reservation), the part of the cost that
# was counted as spent already when its lease was returned (PostgreSQL says how much).
SETTLE_LUA = (
    _RELEASE_FN
    + """
local cost = tonumber(ARGV[2]) or 0
local charge = cost - (tonumber(ARGV[4]) or 0)
local r = redis.call('HMGET', KEYS[1], 'granted', 'settled', 'scopes')
if r[1] then
  local granted = tonumber(r[1])
  local settled = tonumber(r[2])
  local held = math.max(0, granted - settled)
  release(r[3], math.min(cost, held))
  settled = settled + cost
  if ARGV[3] == '1' then
    release(r[3], math.max(0, granted - settled))
    redis.call('DEL', KEYS[1])
    redis.call('ZREM', KEYS[2], ARGV[1])
  else
    redis.call('HSET', KEYS[1], 'settled', string.format('%.12f', settled))
  end
end
if charge ~= 0 then
  for i = 3, #KEYS do
    if redis.call('HEXISTS', KEYS[i], 'loaded') == 1 then
      redis.call('HINCRBYFLOAT', KEYS[i], 'spent', string.format('%.12f', charge))
    end
  end
end
return 1
"""
)

# KEYS: reservation key, expiry zset. ARGV: id, spent but not settled (recorded in PostgreSQL as
# pending spend of the lease's scopes). The hold goes back; what was spent but not settled yet
# becomes spent at once (its usage events take its place when they come: SETTLE_LUA's absorbed).
RETURN_LUA = (
    _RELEASE_FN
    + """
local r = redis.call('HMGET', KEYS[1], 'granted', 'settled', 'scopes')
if not r[1] then return 0 end
release(r[3], math.max(0, tonumber(r[1]) - tonumber(r[2])))
local unsettled = tonumber(ARGV[2]) or 0
if unsettled > 0 then
  for scope in string.gmatch(r[3], '[^|]+') do
    if redis.call('HEXISTS', scope, 'loaded') == 1 then
      redis.call('HINCRBYFLOAT', scope, 'spent', string.format('%.12f', unsettled))
    end
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""
)

# KEYS: reservation key, expiry zset. ARGV: id. Releases whatever is still held.
EXPIRE_LUA = (
    _RELEASE_FN
    + """
local r = redis.call('HMGET', KEYS[1], 'granted', 'settled', 'scopes')
if r[1] then
  release(r[3], math.max(0, tonumber(r[1]) - tonumber(r[2])))
  redis.call('DEL', KEYS[1])
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""
)

# KEYS: scope hashes whose window just restarted. Cached spend goes back to zero; holds of
# requests and leases in flight stay (they are settled against the new window).
RESET_LUA = """
for i = 1, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'loaded') == 1 then
    redis.call('HSET', KEYS[i], 'spent', '0')
  end
end
return #KEYS
"""
