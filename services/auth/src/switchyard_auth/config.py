"""Settings of the auth service."""

from __future__ import annotations

from pydantic import SecretStr

from switchyard_common.kafka import KafkaEnv
from switchyard_common.settings import CommonSettings, DatabaseEnv


class Settings(CommonSettings, DatabaseEnv, KafkaEnv):
    service_name: str = "auth"
    grpc_port: int = 50053
    # The bootstrap super-admin credential (LiteLLM's master_key); must start with "sk-".
    master_key: SecretStr
    # The account (tenant) of the master key and of keys created without one.
    default_account_id: str = "default"
    # Seconds the edge may cache a principal (identity events invalidate sooner).
    principal_cache_ttl_seconds: int = 30
