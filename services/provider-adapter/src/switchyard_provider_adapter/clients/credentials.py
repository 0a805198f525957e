"""The deployments this adapter calls and their credentials (the only place in Switchyard that
holds them). The adapter, not its caller, decides what a deployment is:

- A deployment of the adapter's config.yaml (found by id, or by the wildcard deployment it was
  derived from) is called as the adapter's own copy of the file defines it: provider, model,
  api_base and params come from that copy whatever the caller sent, and its credentials
  (literal values or LiteLLM's ``os.environ/NAME``) are resolved once, at start.
- Any other deployment (added at runtime with ``/model/new``) carries its credentials sealed to
  the adapter's key and bound to its definition (clients/sealed.py): they open only for the
  provider, model, api_base and params they were sealed with, so a deployment whose api_base was
  changed afterwards, or a caller sending one, gets an error and the credential goes nowhere.
  Such a deployment resolves no ``os.environ/`` and is held to the operator's allow-lists
  (domain/allowlists.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from switchyard.llm.v1 import deployment_pb2, error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_common.settings import ConfigError
from switchyard_llm.errors import make_error
from switchyard_llm.model_config import (
    WILDCARD_PROVIDER,
    DeploymentConfig,
    GatewayConfig,
    resolve_value,
)
from switchyard_llm.sealing import SealingError, credential_binding
from switchyard_provider_adapter.clients.sealed import SealedCredentials
from switchyard_provider_adapter.domain.allowlists import DEFAULT_ALLOWLISTS, Allowlists
from switchyard_provider_adapter.domain.errors import ProviderFailure

log = logging.getLogger(__name__)
# Runtime deployments whose checked definition is kept (one entry per deployment id).
_RUNTIME_CACHE = 10_000


@dataclass(frozen=True, slots=True)
class Resolved:
    """A deployment as the adapter calls it."""

    deployment: deployment_pb2.Deployment
    # Non-secret litellm_params (api_version, vertex_project, ...).
    params: Mapping[str, Any]
    credentials: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class _Configured:
    """A config.yaml deployment as this adapter reads it."""

    proto: deployment_pb2.Deployment
    params: Mapping[str, Any]
    credentials: Mapping[str, str]
    error: error_pb2.Error | None


@dataclass(frozen=True, slots=True)
class _Checked:
    """A runtime deployment's definition, checked and its credentials opened (or why not)."""

    definition: tuple[str, str, str, bytes, str, str, str]
    sealed: dict[str, bytes]
    outcome: tuple[Mapping[str, Any], Mapping[str, str]] | error_pb2.Error


def _failure(error: error_pb2.Error) -> ProviderFailure:
    # A fresh copy per call: callers may adjust the error they get.
    out = error_pb2.Error()
    out.CopyFrom(error)
    return ProviderFailure(out)


def _read(dep: DeploymentConfig) -> _Configured:
    proto = dep.to_proto()
    creds: dict[str, str] = {}
    error: error_pb2.Error | None = None
    for key, raw in dep.secret_params().items():
        if raw is None:
            continue
        try:
            value: Any = resolve_value(raw)
        except ConfigError as exc:
            log.error(
                "deployment credential unavailable",
                extra={"deployment": dep.id, "model_name": dep.model_name, "problem": str(exc)},
            )
            error = make_error(
                ErrorKind.ERROR_KIND_AUTHENTICATION,
                f"credentials of deployment '{dep.id}' ({dep.model_name}) are not configured: {key}: {exc}",
                provider=dep.provider,
            )
            continue
        creds[key] = value if isinstance(value, str) else str(value)
    params: dict[str, Any] = {}
    try:
        # config.yaml may name the environment in any param (e.g. api_base: os.environ/AZURE_API_BASE).
        params = {k: resolve_value(v) for k, v in orjson.loads(proto.params_json).items()} if proto.params_json else {}
        proto.api_base = str(resolve_value(proto.api_base)) if proto.api_base else ""
    except ConfigError as exc:
        error = error or make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, f"deployment '{dep.id}': {exc}")
    return _Configured(proto, params, creds, error)


class CredentialStore:
    def __init__(
        self,
        config: GatewayConfig,
        sealed: SealedCredentials | None = None,
        allowlists: Allowlists = DEFAULT_ALLOWLISTS,
    ) -> None:
        self._sealed = sealed or SealedCredentials(None)
        self._allowlists = allowlists
        self._configured = {d.id: _read(d) for d in config.deployments}
        self._runtime: dict[str, _Checked] = {}

    def resolve(self, dep: deployment_pb2.Deployment) -> Resolved:
        """The deployment to call for ``dep`` as sent, with its params and credentials; raises
        ProviderFailure when it may not be called."""
        origin = dep.wildcard_origin if dep.HasField("wildcard_origin") else None
        configured = self._configured.get(origin.id if origin is not None else dep.id)
        if configured is not None:
            return self._configured_deployment(dep, configured)
        return self._runtime_deployment(dep, origin)

    @staticmethod
    def _configured_deployment(dep: deployment_pb2.Deployment, own: _Configured) -> Resolved:
        if own.error is not None:
            raise _failure(own.error)
        p = own.proto
        # A wildcard deployment serves the requested model (and, for `model: "*"`, provider);
        # everything else, where and how it is called, is the file's.
        provider = dep.provider if p.provider == WILDCARD_PROVIDER else p.provider
        model = dep.model if "*" in p.model else p.model
        if (dep.provider, dep.model, dep.api_base, dep.params_json) != (provider, model, p.api_base, p.params_json):
            own_dep = deployment_pb2.Deployment()
            own_dep.CopyFrom(dep)
            own_dep.provider, own_dep.model, own_dep.api_base = provider, model, p.api_base
            own_dep.params_json = p.params_json
            own_dep.ClearField("sealed_credentials")
            dep = own_dep
        return Resolved(dep, own.params, own.credentials)

    def _runtime_deployment(
        self, dep: deployment_pb2.Deployment, origin: deployment_pb2.WildcardOrigin | None
    ) -> Resolved:
        definition = (
            dep.provider,
            dep.model,
            dep.api_base,
            dep.params_json,
            *((origin.id, origin.provider, origin.model) if origin is not None else ("", "", "")),
        )
        sealed = dict(dep.sealed_credentials)
        hit = self._runtime.get(dep.id)
        if hit is None or hit.definition != definition or hit.sealed != sealed:
            hit = _Checked(definition, sealed, self._check(dep, origin))
            if len(self._runtime) >= _RUNTIME_CACHE:
                self._runtime.clear()
            self._runtime[dep.id] = hit
        if isinstance(hit.outcome, error_pb2.Error):
            raise _failure(hit.outcome)
        params, creds = hit.outcome
        return Resolved(dep, params, creds)

    def _check(
        self, dep: deployment_pb2.Deployment, origin: deployment_pb2.WildcardOrigin | None
    ) -> tuple[Mapping[str, Any], Mapping[str, str]] | error_pb2.Error:
        where = f"deployment '{dep.id}'"
        try:
            binding = credential_binding(
                origin.provider if origin is not None else dep.provider,
                origin.model if origin is not None else dep.model,
                dep.api_base,
                dep.params_json,
            )
            params = orjson.loads(dep.params_json) if dep.params_json else {}
        except (orjson.JSONDecodeError, SealingError):
            return make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, f"{where}: params_json must be a JSON object")
        if origin is not None and not (
            dep.id.startswith(f"{origin.id}:")
            and origin.provider in (WILDCARD_PROVIDER, dep.provider)
            and ("*" in origin.model or origin.model == dep.model)
        ):
            return make_error(
                ErrorKind.ERROR_KIND_BAD_REQUEST, f"{where} is not one the wildcard deployment '{origin.id}' serves"
            )
        creds: dict[str, str] = {}
        if dep.sealed_credentials:
            aad_id = origin.id if origin is not None else dep.id
            creds, problem = self._sealed.open(aad_id, dep.sealed_credentials, binding)
            if problem:
                log.warning("runtime deployment credentials refused", extra={"deployment": dep.id, "problem": problem})
                return make_error(
                    ErrorKind.ERROR_KIND_AUTHENTICATION,
                    f"credentials of {where} ({dep.model_group}) cannot be used: {problem}",
                    provider=dep.provider,
                )
        try:
            self._allowlists.check_runtime(dep.api_base, params, creds)
        except ProviderFailure as exc:
            exc.error.message = f"{where}: {exc.error.message}"
            exc.error.provider = dep.provider
            return exc.error
        return params, creds
