"""Budget scopes and the admission amount."""

from __future__ import annotations

from switchyard.budget.v1 import budget_pb2

_KIND_NAMES = {
    budget_pb2.SCOPE_KIND_KEY: "key",
    budget_pb2.SCOPE_KIND_USER: "user",
    budget_pb2.SCOPE_KIND_TEAM: "team",
    budget_pb2.SCOPE_KIND_ORG: "org",
    budget_pb2.SCOPE_KIND_END_USER: "end_user",
    budget_pb2.SCOPE_KIND_TAG: "tag",
    budget_pb2.SCOPE_KIND_ACCOUNT: "account",
}


def kind_name(kind: budget_pb2.ScopeKind) -> str:
    return _KIND_NAMES.get(kind, "unknown")


def scope_key(account_id: str, kind: str, scope_id: str) -> str:
    """Redis hash of one scope. One hash tag for all budget keys so the Lua scripts, which
    touch several scopes at once, also run on Redis Cluster."""
    return f"{{sy:budget}}:scope:{account_id}:{kind}:{scope_id}"


def reservation_key(reservation_id: str) -> str:
    return f"{{sy:budget}}:res:{reservation_id}"


EXPIRY_ZSET = "{sy:budget}:res-expiry"

# KEYS: scope hashes (n), reservation key, expiry zset.
# ARGV: amount, reservation id, expiry (unix seconds), n, scope cache ttl.
# Returns {1, "ok"|"dup"} admitted, {0, scope, spent, limit} refused, {-1, scope} scope not loaded.
RESERVE_LUA = """
local n = tonumber(ARGV[4])
local amount = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[n + 1]) == 1 then return {1, 'dup'} end
for i = 1, n do
  local h = redis.call('HMGET', KEYS[i], 'loaded', 'limit', 'spent', 'reserved')
  if not h[1] then return {-1, KEYS[i]} end
  if h[2] and h[2] ~= '' then
    local spent = tonumber(h[3] or '0') or 0
    local reserved = tonumber(h[4] or '0') or 0
    if spent + reserved + amount > tonumber(h[2]) then
      return {0, KEYS[i], tostring(spent), h[2]}
    end
  end
end
for i = 1, n do
  redis.call('HINCRBYFLOAT', KEYS[i], 'reserved', ARGV[1])
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[5]))
end
redis.call('HSET', KEYS[n + 1], 'amount', ARGV[1], 'scopes', table.concat(KEYS, '|', 1, n))
redis.call('EXPIREAT', KEYS[n + 1], tonumber(ARGV[3]) + 60)
redis.call('ZADD', KEYS[n + 2], ARGV[3], ARGV[2])
return {1, 'ok'}
"""

# KEYS: reservation key, expiry zset, then scope hashes to charge.
# ARGV: reservation id, actual cost.
# Gives the reservation back and charges the actual cost to the scopes that are loaded.
SETTLE_LUA = """
local r = redis.call('HMGET', KEYS[1], 'amount', 'scopes')
if r[1] then
  for scope in string.gmatch(r[2], '[^|]+') do
    if redis.call('EXISTS', scope) == 1 then
      redis.call('HINCRBYFLOAT', scope, 'reserved', -tonumber(r[1]))
    end
  end
  redis.call('DEL', KEYS[1])
end
redis.call('ZREM', KEYS[2], ARGV[1])
local cost = tonumber(ARGV[2])
if cost and cost ~= 0 then
  for i = 3, #KEYS do
    if redis.call('HEXISTS', KEYS[i], 'loaded') == 1 then
      redis.call('HINCRBYFLOAT', KEYS[i], 'spent', ARGV[2])
    end
  end
end
return 1
"""
