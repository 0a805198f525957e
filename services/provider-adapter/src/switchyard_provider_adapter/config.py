"""Settings of the provider adapter."""

from __future__ import annotations

from pydantic import SecretStr

from switchyard_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "provider-adapter"
    grpc_port: int = 50052
    # The LiteLLM-style config.yaml; credentials in it (or the environment variables it names
    # with os.environ/NAME) are read here and nowhere else.
    config_path: str = "/etc/switchyard/config.yaml"
    # X25519 private key (base64 of the raw 32 bytes) that opens the credentials of deployments
    # added at runtime (/model/new seals them to its public key). Unset: such deployments fail
    # with an authentication error naming this variable.
    provider_credentials_private_key: SecretStr | None = None
    # Connection pool per upstream host.
    upstream_max_connections_per_host: int = 512
    upstream_keepalive_seconds: float = 60.0
    upstream_connect_timeout_seconds: float = 5.0
    # Defaults when a deployment sets no timeout / stream_timeout.
    default_timeout_seconds: float = 600.0
    default_stream_timeout_seconds: float = 60.0
    # Gaps between streamed chunks longer than this end the stream with a timeout error.
    stream_idle_timeout_seconds: float = 300.0
