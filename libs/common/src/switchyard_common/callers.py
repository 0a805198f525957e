"""Which service may call which RPC: one table for every service, enforced by ``GrpcService``
when mutual TLS is on (the caller is the identity in its client certificate, ``grpc_tls``).

The table follows the code's real calls (each ``*Stub(`` of a peer): the edge calls auth,
copilot-budget, guardrail, router and the provider adapter; the router calls the provider
adapter's Chat and Embed for deployment health checks. Nothing else calls anything. A service
or caller missing from the table is refused (PERMISSION_DENIED), so a new RPC is reachable by
the callers of its service's ``default`` until the table says otherwise.

Enforced per handler rather than by a server interceptor: a grpc.aio interceptor costs about
0.13 ms per call (measured; see ``tracing``), the check below a microsecond."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

import grpc

from switchyard_common.grpc_tls import identity_of

log = logging.getLogger(__name__)

EDGE: Final = frozenset({"edge"})
ROUTER: Final = frozenset({"router"})
# Any peer whose certificate the CA signed (the health service: it tells nothing secret).
ANY_PEER: Final = frozenset({"*"})


@dataclass(frozen=True)
class ServiceCallers:
    """Who may call a service's RPCs: ``default`` unless ``methods`` names the RPC."""

    default: frozenset[str]
    methods: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def of(self, method: str) -> frozenset[str]:
        return self.methods.get(method, self.default)


CALLERS: Final[Mapping[str, ServiceCallers]] = {
    # Authenticate and the admin RPCs (GenerateKey, GetKey, DeleteKeys): the edge only.
    "switchyard.auth.v1.AuthService": ServiceCallers(EDGE),
    # The management plane (tenancy): the edge only, passing the verified caller.
    "switchyard.auth.v1.AccountService": ServiceCallers(EDGE),
    "switchyard.auth.v1.OrganizationService": ServiceCallers(EDGE),
    "switchyard.auth.v1.TeamService": ServiceCallers(EDGE),
    "switchyard.auth.v1.UserService": ServiceCallers(EDGE),
    "switchyard.auth.v1.CustomerService": ServiceCallers(EDGE),
    "switchyard.auth.v1.BudgetObjectService": ServiceCallers(EDGE),
    "switchyard.auth.v1.KeyService": ServiceCallers(EDGE),
    # Sign-in (/sso/*) and the session keys (/.well-known/jwks.json): the edge only.
    "switchyard.auth.v1.SessionService": ServiceCallers(EDGE),
    # Reservations, leases and the spend logs of every account.
    "switchyard.budget.v1.BudgetService": ServiceCallers(EDGE),
    "switchyard.guardrail.v1.GuardrailService": ServiceCallers(EDGE),
    # Plans, outcomes and the runtime model registry (AddModel, DeleteModel, ...).
    "switchyard.router.v1.RouterService": ServiceCallers(EDGE),
    # The one service with provider credentials: the edge, and the router's health checks.
    "switchyard.provider.v1.ProviderService": ServiceCallers(EDGE, {"Chat": EDGE | ROUTER, "Embed": EDGE | ROUTER}),
    "grpc.health.v1.Health": ServiceCallers(ANY_PEER),
}


def allowed_callers(service: str, method: str) -> frozenset[str]:
    """The identities that may call ``/<service>/<method>`` (empty: nobody)."""
    entry = CALLERS.get(service)
    return entry.of(method) if entry else frozenset()


def _permits(allowed: frozenset[str], identity: str | None) -> bool:
    return identity is not None and (identity in allowed or allowed is ANY_PEER)


def _guard(behavior: Callable[..., Any], path: str, allowed: frozenset[str], prefix: str) -> Callable[..., Any]:
    """``behavior`` (a handler's coroutine or async generator function) preceded by the check."""

    async def refuse(context: grpc.aio.ServicerContext[Any, Any], identity: str | None) -> NoReturn:
        # The caller's name and address only: never metadata, which may carry credentials.
        log.warning("gRPC call refused", extra={"method": path, "caller": identity or "", "peer": context.peer()})
        who = f"service {identity!r}" if identity else "a caller without a service identity"
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{who} may not call {path}")

    if inspect.isasyncgenfunction(behavior):

        async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            identity = identity_of(context, prefix)
            if not _permits(allowed, identity):
                await refuse(context, identity)
            async for item in behavior(request, context):
                yield item

        return stream

    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        identity = identity_of(context, prefix)
        if not _permits(allowed, identity):
            await refuse(context, identity)
        return await behavior(request, context)

    return call


def guard_handler(handler: grpc.RpcMethodHandler[Any, Any], path: str, prefix: str) -> grpc.RpcMethodHandler[Any, Any]:
    """``handler`` with its behaviour preceded by the caller check of ``path`` (/service/Method)."""
    service, _, method = path.lstrip("/").partition("/")
    allowed = allowed_callers(service, method)
    kind = next(k for k in ("unary_unary", "unary_stream", "stream_unary", "stream_stream") if getattr(handler, k))
    # The runtime handler is a namedtuple (grpc._utilities.RpcMethodHandler).
    replaced: grpc.RpcMethodHandler[Any, Any] = handler._replace(  # type: ignore[attr-defined]
        **{kind: _guard(getattr(handler, kind), path, allowed, prefix)}
    )
    return replaced


class _GuardedGeneric(grpc.GenericRpcHandler):
    """A generic handler whose handlers are guarded (built once per method, then reused)."""

    def __init__(self, inner: grpc.GenericRpcHandler, prefix: str) -> None:
        self._inner = inner
        self._prefix = prefix
        self._guarded: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any] | None:
        path = handler_call_details.method
        found = self._guarded.get(path)
        if found is None:
            handler = self._inner.service(handler_call_details)
            if handler is None:
                return None
            found = self._guarded[path] = guard_handler(handler, path, self._prefix)
        return found


class GuardedServer:
    """Stands in for the server while servicers register (``add_*_to_server``), so that every
    handler registered, by either of gRPC's two registration paths, is guarded."""

    def __init__(self, server: grpc.aio.Server, trust_domain: str) -> None:
        self._server = server
        self._prefix = f"spiffe://{trust_domain}/"

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers([_GuardedGeneric(h, self._prefix) for h in generic_rpc_handlers])

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, grpc.RpcMethodHandler[Any, Any]]
    ) -> None:
        self._server.add_registered_method_handlers(
            service_name,
            {name: guard_handler(h, f"/{service_name}/{name}", self._prefix) for name, h in method_handlers.items()},
        )
