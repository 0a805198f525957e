"""Credentials of each deployment, resolved from config.yaml (literal values or LiteLLM's
``os.environ/NAME`` references), or opened from the sealed values a runtime deployment carries
(clients/sealed.py). This is the only place in Switchyard that holds them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from switchyard.llm.v1 import deployment_pb2
from switchyard_common.model_config import SECRET_PARAMS, ConfigError, GatewayConfig, resolve_value
from switchyard_provider_adapter.clients.sealed import SealedCredentials

log = logging.getLogger(__name__)


class CredentialStore:
    def __init__(self, config: GatewayConfig, sealed: SealedCredentials | None = None) -> None:
        self._sealed = sealed or SealedCredentials(None)
        self._runtime: dict[str, Mapping[str, str]] = {}
        self._by_id: dict[str, dict[str, str]] = {}
        self._problems: dict[str, str] = {}
        for dep in config.deployments:
            creds: dict[str, str] = {}
            for key in SECRET_PARAMS:
                if key in dep.litellm_params and dep.litellm_params[key] is not None:
                    try:
                        value: Any = resolve_value(dep.litellm_params[key])
                    except ConfigError as exc:
                        self._problems[dep.id] = f"{key}: {exc}"
                        log.error(
                            "deployment credential unavailable",
                            extra={"deployment": dep.id, "model_name": dep.model_name, "problem": str(exc)},
                        )
                        continue
                    creds[key] = value if isinstance(value, str) else str(value)
            # Non-secret params may also use os.environ/ (e.g. api_base); resolved for the call.
            self._by_id[dep.id] = creds

    def get(self, deployment_id: str) -> Mapping[str, str]:
        found = self._by_id.get(deployment_id)
        if found is not None:
            return found
        return self._runtime.get(deployment_id, {})

    def problem(self, deployment_id: str) -> str | None:
        return self._problems.get(deployment_id)

    def problem_for(self, dep: deployment_pb2.Deployment) -> str | None:
        """Like ``problem``, and first opens the sealed credentials a runtime deployment carries
        (after which ``get(dep.id)`` returns them)."""
        if dep.sealed_credentials and dep.id not in self._by_id:
            creds, problem = self._sealed.open(dep)
            self._runtime[dep.id] = creds
            return problem
        return self._problems.get(dep.id)
