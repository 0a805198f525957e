"""Settings of the callbacks service: LiteLLM's environment variable names for each receiver."""

from __future__ import annotations

from pydantic import SecretStr

from switchyard_common.kafka import KafkaEnv
from switchyard_common.settings import CommonSettings


class Settings(CommonSettings, KafkaEnv):
    service_name: str = "callbacks"
    grpc_port: int = 50056
    # The LiteLLM config.yaml: litellm_settings.success_callback / failure_callback / callbacks,
    # turn_off_message_logging, and callback_settings.
    config_path: str = ""
    langfuse_public_key: SecretStr | None = None
    langfuse_secret_key: SecretStr | None = None
    langfuse_host: str = "https://cloud.langfuse.com"
    # generic_api: the endpoint, and headers as LiteLLM writes them ("Name=value,Other=value").
    generic_logger_endpoint: str = ""
    generic_logger_headers: SecretStr = SecretStr("")
    # Longest one delivery may take before it counts as the receiver being away (and is retried).
    callback_timeout_seconds: float = 10.0
