"""Settings of the guardrail service."""

from __future__ import annotations

from switchyard_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "guardrail"
    grpc_port: int = 50055
