"""Settings of the edge."""

from __future__ import annotations

from pydantic import field_validator

from switchyard_common.durations import duration_seconds
from switchyard_common.kafka import KafkaEnv
from switchyard_common.settings import CommonSettings, DatabaseEnv, RedisEnv


class Settings(CommonSettings, DatabaseEnv, KafkaEnv, RedisEnv):
    # Redis holds the per-key rate-limit counters shared by every edge replica; PostgreSQL (the
    # edge's own schema `responses`) the responses stored for /v1/responses.
    service_name: str = "edge"
    # Clients' traceparent headers are kept for their trace ids but cannot force sampling.
    trust_inbound_sampling: bool = False
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
    # Output guardrails on a stream check the answer once this many characters have arrived
    # since the last check (one call per window, never one per chunk).
    guardrail_stream_window_chars: int = 256
    router_timeout_seconds: float = 1.0
    # Principals of unknown credentials are cached this long (protects auth from key floods).
    negative_auth_cache_seconds: float = 2.0
    # Output tokens assumed for budget admission when a request sets no max_tokens and the
    # model's maximum output (model_info.max_output_tokens) is unknown; a budgeted request is
    # then sent with this max_tokens, so its worst case really bounds it.
    default_max_output_tokens: int = 4096
    # The provider adapter's X25519 public key (base64 of the raw 32 bytes): credentials given to
    # /model/new are sealed to it at once, so only the adapter can read them. Empty: /model/new
    # refuses credentials (os.environ/ references in config.yaml still work).
    provider_credentials_public_key: str = ""
    # Largest accepted request bodies, per kind of route (413 beyond). Chat bodies carry images
    # and documents inline; image generation and management bodies are small by nature.
    max_request_body_bytes: int = 32 * 1024 * 1024
    max_embeddings_body_bytes: int = 16 * 1024 * 1024
    max_images_body_bytes: int = 1024 * 1024
    max_management_body_bytes: int = 1024 * 1024
    # Most messages one chat request may hold.
    max_chat_messages: int = 10_000
    # The gateway's public base URL (e.g. https://llm.example.com): sign-in's callback
    # (<public_url>/sso/callback, registered at the identity provider) and logout's return
    # address. Empty: taken from each request's Host (right only without a proxy in front).
    public_url: str = ""
    # Most retries a request may ask for with `num_retries` (the config's router_settings may set
    # more for its own groups).
    max_num_retries: int = 10
    # Stored responses (/v1/responses with `store`) are kept this long (30s, 12h, 30d, ...; 30
    # days, as OpenAI keeps them), then deleted by one replica's sweep.
    responses_retention: str = "30d"
    # How often a replica sweeps expired responses (one replica at a time does).
    responses_sweep_seconds: float = 300.0
    # Deadline of one stored-response read or write; a stored response is written before the
    # answer is released, so a client can continue it at once on any replica.
    responses_store_timeout_seconds: float = 2.0
    # Most stored responses a conversation (a previous_response_id chain) reaches back.
    max_response_chain: int = 1000

    @field_validator("responses_retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        duration_seconds(value)
        return value

    def responses_retention_seconds(self) -> int:
        return duration_seconds(self.responses_retention)
