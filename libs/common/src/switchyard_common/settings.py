"""Typed settings: one ``Settings`` class per service, read from the environment only here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TypeVar

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchyard_common.grpc_tls import TlsFiles


class CommonSettings(BaseSettings):
    """Settings every service has. Subclasses add their own fields and set ``service_name``."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    service_name: str = "switchyard"
    log_level: str = "INFO"
    # Address the service binds to. Containers use 0.0.0.0; the local stack uses 127.0.0.1.
    bind_host: str = "0.0.0.0"
    # Port of the Prometheus /metrics endpoint; 0 turns it off.
    metrics_port: int = 0
    # Seconds a SIGTERM gives in-flight calls to finish before the process exits.
    shutdown_grace_seconds: float = 10.0
    # Obey the sampled flag of an inbound trace context. True inside the cluster, where callers
    # are our own services; the edge, which takes traceparent headers from clients, decides
    # sampling itself.
    trust_inbound_sampling: bool = True
    # Mutual TLS between the services: this service's certificate chain and key (PEM; its URI SAN
    # spiffe://<GRPC_TLS_TRUST_DOMAIN>/<service> names it to its peers) and the CA bundle its
    # peers' certificates must chain to. All three or none: none is plaintext, for a service mesh
    # whose sidecars do mutual TLS, or for local development. Replaced files are picked up
    # without a restart.
    grpc_tls_cert_file: str = ""
    grpc_tls_key_file: str = ""
    grpc_tls_ca_file: str = ""
    grpc_tls_trust_domain: str = "switchyard"
    # A plaintext port serving only the gRPC health service, for the kubelet's probes (which
    # present no client certificate); 0: none.
    grpc_health_port: int = 0

    @model_validator(mode="after")
    def _tls_files_together(self) -> CommonSettings:
        given = [bool(self.grpc_tls_cert_file), bool(self.grpc_tls_key_file), bool(self.grpc_tls_ca_file)]
        if any(given) and not all(given):
            raise ValueError("GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE and GRPC_TLS_CA_FILE go together")
        return self

    def grpc_tls(self) -> TlsFiles | None:
        """The certificate files for mutual TLS, or None when it is off."""
        if not self.grpc_tls_cert_file:
            return None
        return TlsFiles(
            cert_file=Path(self.grpc_tls_cert_file),
            key_file=Path(self.grpc_tls_key_file),
            ca_file=Path(self.grpc_tls_ca_file),
            trust_domain=self.grpc_tls_trust_domain,
        )


class ConfigError(ValueError):
    """A configuration that cannot be used (the model list, a gateway setting); the message names
    the entry at fault. ``run_service`` turns it into a clean exit at start."""


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Build settings from the environment; a missing or invalid one stops the process with a
    message naming the variable (never its value, which may be a secret)."""
    try:
        return cls()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper()
            reason = "is required" if err["type"] == "missing" else err["msg"]
            lines.append(f"  {name}: {reason}")
        sys.stderr.write(f"{cls.__module__}: invalid configuration\n" + "\n".join(lines) + "\n")
        raise SystemExit(2) from None


class DatabaseEnv(BaseSettings):
    """PostgreSQL settings (``DATABASE_URL`` is required and secret)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    database_url: SecretStr
    database_pool_max_size: int = 10
    # Apply pending migrations at start (the Helm chart runs them in a hook Job instead).
    migrate_on_start: bool = True


class RedisEnv(BaseSettings):
    """Redis settings; every command has a short deadline so an outage never hangs a request."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    redis_url: SecretStr
    redis_socket_timeout_seconds: float = 0.25
    redis_max_connections: int = 64
