"""The deployment catalog: config.yaml's deployments plus the runtime ones stored in
PostgreSQL, validated, turned into the registry the planner routes with, and rebuilt whenever
the stored set changes (on this replica or any other)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2
from switchyard_common.settings import ConfigError
from switchyard_llm.errors import TypedError, make_error
from switchyard_llm.model_config import (
    SECRET_PARAMS,
    DeploymentConfig,
    GatewayConfig,
    parse_deployment,
)
from switchyard_llm.pricing import PriceBook
from switchyard_llm.sealing import binding_of
from switchyard_router.clients.store import DuplicateModel, ModelRow, ModelStore
from switchyard_router.domain.policy import RouterPolicy
from switchyard_router.domain.registry import Candidate, Registry, StoredModel, library_context_window

log = logging.getLogger(__name__)


class CatalogError(TypedError):
    """A management change refused: the caller's answer (the response's ``error``)."""


class NoModelStore(Exception):
    """The router runs without a database, so models cannot be managed at runtime: the service is
    not set up for the call (FAILED_PRECONDITION), whatever the request."""


def _bad(message: str, param: str = "") -> CatalogError:
    return CatalogError(make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, message, param=param))


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _bad(f"{what} is not valid JSON", what) from None
    if not isinstance(value, dict):
        raise _bad(f"{what} must be a JSON object", what)
    return value


def _binding_of_row(row: ModelRow) -> bytes | None:
    entry = {"model_name": row.model_name, "litellm_params": row.litellm_params, "model_info": row.model_info}
    try:
        return binding_of(parse_deployment(entry, f"stored model {row.id}").to_proto())
    except ConfigError:
        return None


class Catalog:
    def __init__(
        self,
        config: GatewayConfig,
        policy: RouterPolicy,
        store: ModelStore | None,
        *,
        prices: PriceBook | None = None,
        on_registry: Callable[[Registry], None] | None = None,
    ) -> None:
        self._config = config
        self._policy = policy
        self._store = store
        self._prices = prices or PriceBook()
        self._on_registry = on_registry
        self._config_models = [StoredModel(config=d) for d in config.deployments]
        self._config_ids = {d.id for d in config.deployments}
        self._db_models: list[StoredModel] = []
        self.version = -1
        self.registry = self._build()
        self._changed = asyncio.Event()
        self._reload_lock = asyncio.Lock()

    def _build(self) -> Registry:
        return Registry(
            [*self._config_models, *self._db_models],
            policy=self._policy,
            aliases=self._config.router_settings.get("model_group_alias") or {},
            prices=self._prices,
        )

    @staticmethod
    def _stored(row: ModelRow) -> StoredModel:
        entry = {"model_name": row.model_name, "litellm_params": row.litellm_params, "model_info": row.model_info}
        dep = parse_deployment(entry, f"stored model {row.id}")
        return StoredModel(
            config=dep,
            sealed=row.sealed,
            db_model=True,
            created_at=row.created_at,
            updated_at=row.updated_at,
            created_by=row.created_by,
            updated_by=row.updated_by,
        )

    # --- keeping current ------------------------------------------------------------------
    async def reload(self, *, force: bool = False) -> bool:
        """Rebuild the registry when the stored set changed; True when it did."""
        if self._store is None:
            return False
        async with self._reload_lock:
            if not force and await self._store.version() == self.version:
                return False
            version, rows = await self._store.load()
            models = []
            for row in rows:
                if row.id in self._config_ids:
                    log.warning("stored model shadows a config.yaml deployment; ignored", extra={"id": row.id})
                    continue
                try:
                    models.append(self._stored(row))
                except ConfigError as exc:
                    log.error("stored model is invalid; ignored", extra={"id": row.id, "problem": str(exc)})
            self._db_models = models
            self.registry = self._build()
            self.version = version
            if self._on_registry is not None:
                self._on_registry(self.registry)
            log.info("deployment registry reloaded", extra={"version": version, "runtime_models": len(models)})
            return True

    def notify(self) -> None:
        self._changed.set()

    async def follow(self, poll_seconds: float = 1.0) -> None:
        """Reload on every change notification, and at least check every ``poll_seconds``."""
        while True:
            try:
                async with asyncio.timeout(poll_seconds):
                    await self._changed.wait()
            except TimeoutError:
                pass
            self._changed.clear()
            try:
                await self.reload()
            except Exception:
                log.warning("deployment registry reload failed; keeping the current one", exc_info=True)

    # --- management -----------------------------------------------------------------------
    def _require_store(self) -> ModelStore:
        if self._store is None:
            raise NoModelStore("runtime model management needs the router's database (DATABASE_URL)")
        return self._store

    @staticmethod
    def _check_sealed(sealed: Mapping[str, bytes]) -> None:
        for name in sealed:
            if name not in SECRET_PARAMS:
                raise _bad(f"sealed credential {name!r} is not a credential param", "litellm_params")

    @staticmethod
    def _check_no_secrets(params: Mapping[str, Any]) -> None:
        plain = sorted(k for k, v in params.items() if k in SECRET_PARAMS and v is not None)
        if plain:
            raise _bad(
                f"credentials {plain} must reach the router sealed to the provider adapter's key, not in plain text",
                "litellm_params",
            )

    def _validate(self, model_id: str, name: str, params: dict[str, Any], info: dict[str, Any]) -> DeploymentConfig:
        info["id"] = model_id
        try:
            return parse_deployment({"model_name": name, "litellm_params": params, "model_info": info}, "model")
        except ConfigError as exc:
            raise _bad(str(exc), "litellm_params") from None

    async def add(self, entry: router_pb2.ModelEntry, caller: str) -> StoredModel:
        store = self._require_store()
        params = _json_object(entry.litellm_params_json, "litellm_params")
        info = _json_object(entry.model_info_json, "model_info")
        model_id = entry.id or str(info.get("id") or "") or str(uuid.uuid4())
        self._check_no_secrets(params)
        self._check_sealed(entry.sealed_credentials)
        self._validate(model_id, entry.model_name, params, info)
        if model_id in self._config_ids:
            raise _bad(f"model id {model_id!r} is already used by a config.yaml deployment", "model_info.id")
        row = ModelRow(model_id, entry.model_name, params, info, dict(entry.sealed_credentials), 0, 0, caller, caller)
        try:
            stored = await store.insert(row)
        except DuplicateModel:
            raise _bad(f"a model with id {model_id!r} already exists; use /model/update", "model_info.id") from None
        await self.reload()
        return self._stored(stored)

    async def update(self, req: router_pb2.UpdateModelRequest) -> StoredModel:
        store = self._require_store()
        entry = req.model
        if not entry.id:
            raise _bad("model_info.id is required", "model_info.id")
        if entry.id in self._config_ids:
            raise _bad(
                f"model {entry.id!r} is defined in config.yaml; change it there (only models added with "
                "/model/new can be updated)",
                "model_info.id",
            )
        params_patch = _json_object(entry.litellm_params_json, "litellm_params")
        info_patch = _json_object(entry.model_info_json, "model_info")
        self._check_no_secrets(params_patch)
        self._check_sealed(entry.sealed_credentials)

        def change(row: ModelRow) -> ModelRow:
            params = {**row.litellm_params, **params_patch}
            info = {**row.model_info, **info_patch}
            params = {k: v for k, v in params.items() if v is not None}
            info = {k: v for k, v in info.items() if v is not None}
            sealed = {k: v for k, v in row.sealed.items() if k not in req.remove_credentials}
            kept = sorted(k for k in sealed if k not in entry.sealed_credentials)
            sealed.update(entry.sealed_credentials)
            name = entry.model_name or row.model_name
            updated = self._validate(row.id, name, params, info)
            if kept and binding_of(updated.to_proto()) != _binding_of_row(row):
                # The kept credentials are sealed to the old definition and would no longer
                # open: say so now rather than fail every call after the update.
                raise _bad(
                    f"this update changes where or how the deployment's credentials are used (provider, model, "
                    f"api_base or parameters); send {', '.join(kept)} again in the same update",
                    "litellm_params",
                )
            return ModelRow(
                row.id, name, params, info, sealed, row.created_at, row.updated_at, row.created_by, req.caller
            )

        updated = await store.update(entry.id, change)
        if updated is None:
            raise CatalogError(
                make_error(ErrorKind.ERROR_KIND_NOT_FOUND, f"model {entry.id!r} not found", param="model_info.id")
            )
        await self.reload()
        return self._stored(updated)

    async def delete(self, model_id: str) -> StoredModel | None:
        store = self._require_store()
        if not model_id:
            raise _bad("id is required", "id")
        if model_id in self._config_ids:
            raise _bad(
                f"model {model_id!r} is defined in config.yaml; remove it there (only models added with "
                "/model/new can be deleted)",
                "id",
            )
        row = await store.delete(model_id)
        if row is None:
            raise CatalogError(make_error(ErrorKind.ERROR_KIND_NOT_FOUND, f"model {model_id!r} not found", param="id"))
        await self.reload()
        try:
            return self._stored(row)
        except ConfigError:
            return None  # a row that no longer validated (and so was never served): gone all the same

    # --- views ----------------------------------------------------------------------------
    def entry(self, model: StoredModel, cand: Candidate | None = None) -> router_pb2.ModelEntry:
        """A deployment for /model/info: params without credentials, model_info completed from
        the price library (the configured values win)."""
        cfg = model.config
        params = {k: v for k, v in cfg.litellm_params.items() if k not in SECRET_PARAMS}
        info: dict[str, Any] = {
            "id": cfg.id,
            "db_model": model.db_model,
            "key": cfg.model,
            "litellm_provider": cfg.provider,
            "mode": cfg.mode,
        }
        if cand is not None and "*" not in cfg.model:
            p = cand.proto.pricing
            if cand.rates is not None:
                info["input_cost_per_token"], info["output_cost_per_token"] = cand.rates
            window = cand.max_input_tokens or library_context_window(p.base_model or cfg.model)
            info["max_input_tokens"] = window or None
            info["max_tokens"] = cand.proto.max_output_tokens or window or None
            info["max_output_tokens"] = cand.proto.max_output_tokens or None
            info["rpm"] = cand.rpm or None
            info["tpm"] = cand.tpm or None
        info.update(cfg.model_info)
        info["id"] = cfg.id
        info["db_model"] = model.db_model
        sealed_names = sorted(model.sealed)
        config_secrets = sorted(k for k in cfg.litellm_params if k in SECRET_PARAMS)
        return router_pb2.ModelEntry(
            id=cfg.id,
            model_name=cfg.model_name,
            litellm_params_json=orjson.dumps(params, default=str),
            model_info_json=orjson.dumps(info, default=str),
            credential_params=sealed_names or config_secrets,
            db_model=model.db_model,
            created_at=int(model.created_at),
            updated_at=int(model.updated_at),
            created_by=model.created_by,
            updated_by=model.updated_by,
        )
