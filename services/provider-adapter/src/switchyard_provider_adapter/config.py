"""Settings of the provider adapter."""

from __future__ import annotations

from switchyard_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "provider-adapter"
    grpc_port: int = 50052
    # The LiteLLM-style config.yaml; credentials in it (or the environment variables it names
    # with os.environ/NAME) are read here and nowhere else.
    config_path: str = "/etc/switchyard/config.yaml"
    # Connection pool per upstream host.
    upstream_max_connections_per_host: int = 512
    upstream_keepalive_seconds: float = 60.0
    upstream_connect_timeout_seconds: float = 5.0
    # Defaults when a deployment sets no timeout / stream_timeout.
    default_timeout_seconds: float = 600.0
    default_stream_timeout_seconds: float = 60.0
    # Gaps between streamed chunks longer than this end the stream with a timeout error.
    stream_idle_timeout_seconds: float = 300.0
