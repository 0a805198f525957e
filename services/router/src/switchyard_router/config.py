"""Settings of the router."""

from __future__ import annotations

from switchyard_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "router"
    grpc_port: int = 50051
    # The LiteLLM-style config.yaml (model_list, router_settings, litellm_settings).
    config_path: str = "/etc/switchyard/config.yaml"
