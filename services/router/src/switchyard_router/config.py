"""Settings of the router."""

from __future__ import annotations

from switchyard_common.settings import CommonSettings, DatabaseEnv, RedisEnv


class Settings(CommonSettings, DatabaseEnv, RedisEnv):
    service_name: str = "router"
    grpc_port: int = 50051
    # The LiteLLM-style config.yaml (model_list, router_settings, litellm_settings).
    config_path: str = "/etc/switchyard/config.yaml"
    # The provider adapter, for health checks (a real minimal call per deployment).
    provider_adapter_addr: str = "provider-adapter:50052"
    # Prefix of every Redis key and channel of the routing state (replicas sharing one prefix
    # share cooldowns and limits).
    redis_key_prefix: str = "switchyard:router:"
    # A small pool answers bursts faster than many fresh connections (commands are short).
    redis_max_connections: int = 16
    # Deadline of one Redis call (the edge gives a whole plan 1 s); three timeouts in a row, or a
    # refused connection, switch to local state.
    redis_socket_timeout_seconds: float = 0.4
    # Seconds without Redis answers before the router tries it again (it routes from local
    # state meanwhile).
    redis_retry_seconds: float = 2.0
    # How often each replica re-reads the shared state (cooldowns are also pushed at once).
    state_sync_seconds: float = 1.0
    # How often each replica checks that its runtime models are current (changes are also
    # notified at once).
    registry_poll_seconds: float = 1.0
    # Milliseconds an edge may reuse a plan that depends on no per-request state (static
    # strategy, no rpm/tpm/parallel limits); edges drop cached plans at once when a cooldown
    # starts, a health check flips or models change. 0 turns plan caching off.
    plan_cache_ms: int = 1000
