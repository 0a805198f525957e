"""Settings of the copilot-budget service."""

from __future__ import annotations

from switchyard_common.kafka import KafkaEnv
from switchyard_common.settings import CommonSettings, DatabaseEnv, RedisEnv


class Settings(CommonSettings, DatabaseEnv, RedisEnv, KafkaEnv):
    service_name: str = "copilot-budget"
    grpc_port: int = 50054
    # Longest a reservation may live without settlement before it is released.
    max_reservation_ttl_seconds: int = 3600
    # Seconds a scope's limit and spend stay cached in Redis before being re-read from PostgreSQL.
    scope_cache_seconds: int = 300
    # A lease gets at most this share of the headroom left under the tightest limit, so several
    # edge replicas can hold leases on one key and grants shrink as the limit nears.
    lease_fraction: float = 0.5
    # How often limits with a budget_duration are checked for a window to restart (a window
    # restarts at most this late).
    budget_reset_check_seconds: float = 10.0
