"""Settings of the edge."""

from __future__ import annotations

from switchyard_common.settings import CommonSettings, KafkaEnv, RedisEnv


class Settings(CommonSettings, KafkaEnv, RedisEnv):
    # Redis holds the per-key rate-limit counters shared by every edge replica.
    service_name: str = "edge"
    # OpenAI-compatible HTTP API (and /healthz, /readyz; /metrics is on METRICS_PORT).
    http_port: int = 4000
    # Serve /openapi.json on the API port (off: it maps the management API for anyone).
    serve_openapi: bool = False
    # The gRPC Gateway API for internal services.
    grpc_port: int = 50050
    auth_addr: str = "auth:50053"
    copilot_budget_addr: str = "copilot-budget:50054"
    guardrail_addr: str = "guardrail:50055"
    router_addr: str = "router:50051"
    provider_adapter_addr: str = "provider-adapter:50052"
    # Whole-request deadline when the request sets no `timeout`.
    request_timeout_seconds: float = 600.0
    # Deadlines of the calls to peer services on the way to the provider.
    auth_timeout_seconds: float = 2.0
    budget_timeout_seconds: float = 1.0
    guardrail_timeout_seconds: float = 2.0
    router_timeout_seconds: float = 1.0
    # Principals of unknown credentials are cached this long (protects auth from key floods).
    negative_auth_cache_seconds: float = 2.0
    # Output tokens assumed for budget admission when a request sets no max_tokens.
    default_max_output_tokens: int = 4096
    # The provider adapter's X25519 public key (base64 of the raw 32 bytes): credentials given to
    # /model/new are sealed to it at once, so only the adapter can read them. Empty: /model/new
    # refuses credentials (os.environ/ references in config.yaml still work).
    provider_credentials_public_key: str = ""
    # Largest accepted request body.
    max_request_body_bytes: int = 32 * 1024 * 1024
