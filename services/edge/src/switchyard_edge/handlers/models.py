"""LiteLLM-compatible model management and health routes, served by the router: ``/model/new``,
``/model/update`` (and ``PATCH /model/{id}/update``), ``/model/delete``, ``/model/info``,
``/v1/model/info``, ``/model_group/info`` and ``/health``. Admin only; errors are ``{"detail"}``.

Credentials in ``litellm_params`` (``api_key``, ...) are sealed here, the moment they arrive,
to the provider adapter's public key and bound to the deployment's definition (provider, model,
api_base, parameters: switchyard_llm.sealing): the router and its database only ever see
ciphertext, no route returns them, and a later change of api_base cannot open them.
``os.environ/NAME`` references are refused: they would read the provider adapter's environment."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

from switchyard.auth.v1 import auth_pb2
from switchyard.router.v1 import router_pb2
from switchyard_common.settings import ConfigError
from switchyard_edge import openapi
from switchyard_edge.handlers.httpio import (
    BadInput,
    ManagementHandler,
    Refused,
    json_response,
    management_endpoint,
    read_object,
)
from switchyard_llm.model_config import SECRET_PARAMS, is_env_reference, parse_deployment
from switchyard_llm.sealing import binding_of, load_public_key, seal

if TYPE_CHECKING:
    from switchyard_edge.app import Edge


def _obj(body: dict[str, Any], key: str) -> dict[str, Any]:
    v = body.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise BadInput(f"'{key}' must be an object")
    return v


def _entry_json(e: router_pb2.ModelEntry) -> dict[str, Any]:
    """A deployment as LiteLLM's /model/info lists it (never with credentials)."""
    return {
        "model_name": e.model_name,
        "litellm_params": orjson.loads(e.litellm_params_json) if e.litellm_params_json else {},
        "model_info": orjson.loads(e.model_info_json) if e.model_info_json else {"id": e.id},
    }


def _row_json(e: router_pb2.ModelEntry) -> dict[str, Any]:
    """A stored deployment as LiteLLM's /model/new and /model/update return it."""
    out = _entry_json(e)
    return {
        "model_id": e.id,
        "model_name": e.model_name,
        "litellm_params": out["litellm_params"],
        "model_info": out["model_info"],
        "credential_params": list(e.credential_params),
        "created_at": e.created_at or None,
        "updated_at": e.updated_at or None,
        "created_by": e.created_by or None,
        "updated_by": e.updated_by or None,
    }


def _group_json(g: router_pb2.ModelGroupInfo) -> dict[str, Any]:
    return {
        "model_group": g.model_group,
        "providers": list(g.providers),
        "max_input_tokens": g.max_input_tokens if g.HasField("max_input_tokens") else None,
        "max_output_tokens": g.max_output_tokens if g.HasField("max_output_tokens") else None,
        "input_cost_per_token": g.input_cost_per_token if g.HasField("input_cost_per_token") else None,
        "output_cost_per_token": g.output_cost_per_token if g.HasField("output_cost_per_token") else None,
        "mode": g.mode or "chat",
        "tpm": g.tpm if g.HasField("tpm") else None,
        "rpm": g.rpm if g.HasField("rpm") else None,
        "supports_parallel_function_calling": g.supports_parallel_function_calling,
        "supports_vision": g.supports_vision,
        "supports_function_calling": g.supports_function_calling,
        "access_groups": list(g.access_groups),
        "deployments": g.deployments,
        "healthy_deployments": g.healthy_deployments,
    }


def _health_json(d: router_pb2.DeploymentHealth) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": f"{d.provider}/{d.model}",
        "model_group": d.model_group,
        "model_id": d.deployment_id,
        "api_base": d.api_base or None,
        "checked_at": d.checked_at or None,
        "latency_ms": round(d.latency_ms, 3) if d.latency_ms else None,
    }
    if not d.healthy:
        out["error"] = d.error or "unhealthy"
        out["cooling_down"] = d.cooling_down
        if d.cooling_down:
            out["cooldown_remaining_seconds"] = round(d.cooldown_remaining_seconds, 3)
    return out


class ModelRoutes:
    def __init__(self, edge: Edge) -> None:
        self._edge = edge
        self._limit = edge.settings.max_management_body_bytes
        self._public_key = None
        key = edge.settings.provider_credentials_public_key
        if key:
            self._public_key = load_public_key(key)

    def _seal(
        self, model_id: str, params: dict[str, Any], binding: Callable[[], bytes]
    ) -> tuple[dict[str, Any], dict[str, bytes], list[str]]:
        """Split ``litellm_params`` into plain params, sealed credentials and removed ones;
        ``binding`` gives the deployment's credential binding (asked only when there is a
        credential to seal)."""
        for k, v in params.items():
            if is_env_reference(v):
                raise BadInput(
                    f"litellm_params.{k}: os.environ/ references are read only from the config.yaml of the "
                    "provider adapter; send the value itself"
                )
        plain: dict[str, Any] = {}
        sealed: dict[str, bytes] = {}
        removed: list[str] = []
        bound = b""
        for k, v in params.items():
            if k not in SECRET_PARAMS:
                plain[k] = v
                continue
            if v is None:
                removed.append(k)
                continue
            if self._public_key is None:
                raise Refused(
                    503,
                    "this gateway cannot store credentials: PROVIDER_CREDENTIALS_PUBLIC_KEY is not configured "
                    "(use os.environ/ references in config.yaml instead)",
                )
            bound = bound or binding()
            text = v if isinstance(v, str) else orjson.dumps(v).decode()
            sealed[k] = seal(self._public_key, model_id, k, text, binding=bound)
        return plain, sealed, removed

    @staticmethod
    def _binding(model_id: str, name: str, params: dict[str, Any]) -> bytes:
        """The credential binding of the deployment ``params`` define (as the router will store
        it; an invalid definition is refused here as the router would refuse it)."""
        entry = {"model_name": name or "model", "litellm_params": params, "model_info": {"id": model_id}}
        try:
            return binding_of(parse_deployment(entry, "model").to_proto())
        except ConfigError as exc:
            raise BadInput(str(exc)) from None

    async def _stored_params(self, model_id: str) -> tuple[str, dict[str, Any]]:
        """(model_name, litellm_params) of a stored deployment, to bind updated credentials to the
        deployment as the update leaves it."""
        for e in await self._edge.models.info(model_id):
            if e.id == model_id:
                return e.model_name, orjson.loads(e.litellm_params_json) if e.litellm_params_json else {}
        raise Refused(404, f"model {model_id!r} not found")

    # --- routes ---------------------------------------------------------------------------
    async def new(self, request: Request, who: auth_pb2.Principal) -> Response:
        body = await read_object(request, self._limit)
        name = body.get("model_name")
        if not isinstance(name, str) or not name:
            raise BadInput("'model_name' is required")
        params = _obj(body, "litellm_params")
        if not params.get("model"):
            raise BadInput("'litellm_params.model' is required")
        info = _obj(body, "model_info")
        model_id = str(info.get("id") or uuid.uuid4())
        info["id"] = model_id
        plain, sealed, _ = self._seal(model_id, params, lambda: self._binding(model_id, name, params))
        entry = router_pb2.ModelEntry(
            id=model_id,
            model_name=name,
            litellm_params_json=orjson.dumps(plain),
            model_info_json=orjson.dumps(info),
            sealed_credentials=sealed,
        )
        return json_response(_row_json(await self._edge.models.add(entry, _caller(who))))

    async def _update(self, body: dict[str, Any], model_id: str, who: auth_pb2.Principal) -> Response:
        if not model_id:
            raise BadInput("'model_info.id' is required")
        name = body.get("model_name")
        if name is not None and (not isinstance(name, str) or not name):
            raise BadInput("'model_name' must be a non-empty string")
        params = _obj(body, "litellm_params")
        info = _obj(body, "model_info")
        info.pop("id", None)
        stored: tuple[str, dict[str, Any]] | None = None
        if any(k in SECRET_PARAMS and v is not None for k, v in params.items()):
            stored = await self._stored_params(model_id)

        def binding() -> bytes:
            # Merged as the router merges an update (catalog.update).
            assert stored is not None
            merged = {k: v for k, v in {**stored[1], **params}.items() if v is not None}
            return self._binding(model_id, name or stored[0], merged)

        plain, sealed, removed = self._seal(model_id, params, binding)
        entry = router_pb2.ModelEntry(
            id=model_id,
            model_name=name or "",
            litellm_params_json=orjson.dumps(plain),
            model_info_json=orjson.dumps(info),
            sealed_credentials=sealed,
        )
        req = router_pb2.UpdateModelRequest(model=entry, remove_credentials=removed, caller=_caller(who))
        return json_response(_row_json(await self._edge.models.update(req)))

    async def update(self, request: Request, who: auth_pb2.Principal) -> Response:
        body = await read_object(request, self._limit)
        info = _obj(body, "model_info")
        model_id = info.get("id") or body.get("id") or ""
        if not isinstance(model_id, str):
            raise BadInput("'model_info.id' must be a string")
        return await self._update(body, model_id, who)

    async def patch(self, request: Request, who: auth_pb2.Principal) -> Response:
        return await self._update(await read_object(request, self._limit), request.path_params["model_id"], who)

    async def delete(self, request: Request, who: auth_pb2.Principal) -> Response:
        body = await read_object(request, self._limit)
        model_id = body.get("id")
        if not isinstance(model_id, str) or not model_id:
            raise BadInput("'id' is required")
        await self._edge.models.delete(model_id)
        return json_response({"message": f"Model: {model_id} deleted successfully"})

    async def info(self, request: Request, who: auth_pb2.Principal) -> Response:
        q = request.query_params
        entries = await self._edge.models.info(q.get("litellm_model_id") or q.get("model_id") or "")
        return json_response({"data": [_entry_json(e) for e in entries]})

    async def group_info(self, request: Request, who: auth_pb2.Principal) -> Response:
        groups = await self._edge.models.groups(request.query_params.get("model_group") or "")
        return json_response({"data": [_group_json(g) for g in groups]})

    async def health(self, request: Request, who: auth_pb2.Principal) -> Response:
        q = request.query_params
        deployments = await self._edge.models.health(
            q.get("model") or "", check_now=(q.get("check") or "").lower() in ("1", "true", "yes")
        )
        healthy = [_health_json(d) for d in deployments if d.healthy]
        unhealthy = [_health_json(d) for d in deployments if not d.healthy]
        return json_response(
            {
                "healthy_endpoints": healthy,
                "unhealthy_endpoints": unhealthy,
                "healthy_count": len(healthy),
                "unhealthy_count": len(unhealthy),
            }
        )


def _caller(who: auth_pb2.Principal) -> str:
    return who.user_id or who.key_alias or (who.key_hash[:12] if who.key_hash else "master_key")


def register(app: FastAPI, edge: Edge) -> None:
    routes = ModelRoutes(edge)

    def admin(handler: ManagementHandler) -> Callable[[Request], Awaitable[Response]]:
        return management_endpoint(
            edge,
            handler,
            admin_only="only proxy admins may use the model management routes",
        )

    body = openapi.management_route({"type": "object"})
    app.add_api_route("/model/new", admin(routes.new), methods=["POST"], openapi_extra=body)
    app.add_api_route("/model/update", admin(routes.update), methods=["POST"], openapi_extra=body)
    by_path = {
        **body,
        "parameters": [{"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    }
    app.add_api_route("/model/{model_id}/update", admin(routes.patch), methods=["PATCH"], openapi_extra=by_path)
    app.add_api_route("/model/delete", admin(routes.delete), methods=["POST"], openapi_extra=body)
    by_id = openapi.management_route(query={"litellm_model_id": {"type": "string"}})
    for path in ("/model/info", "/v1/model/info"):
        app.add_api_route(path, admin(routes.info), methods=["GET"], openapi_extra=by_id)
    by_group = openapi.management_route(query={"model_group": {"type": "string"}})
    app.add_api_route("/model_group/info", admin(routes.group_info), methods=["GET"], openapi_extra=by_group)
    app.add_api_route(
        "/health",
        admin(routes.health),
        methods=["GET"],
        openapi_extra=openapi.management_route(query={"model": {"type": "string"}}),
    )
