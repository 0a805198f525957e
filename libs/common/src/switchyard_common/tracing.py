"""Trace context across gRPC hops without interceptors.

gRPC interceptors in grpc.aio (OpenTelemetry's, or even an empty one) wrap every call in extra
Python machinery: measured here at +0.5 ms per call for OpenTelemetry's and +0.13 ms for an empty
one, against ~0 for passing metadata directly. So callers wrap stubs in ``TracedStub`` (the
current trace context rides in each call's metadata) and servers wrap servicers with
``traced_servicer`` (each call runs in a server span that continues the caller's trace)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

_tracer = trace.get_tracer("switchyard.grpc")
T = TypeVar("T")


def outgoing_metadata() -> tuple[tuple[str, str], ...]:
    """``traceparent`` (and ``tracestate``) of the current span, as gRPC metadata."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return tuple(carrier.items())


class TracedStub:
    """A generated async stub whose calls carry the current trace context."""

    def __init__(self, stub: object) -> None:
        self._stub = stub

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._stub, name)

        def call(request: Any, **kwargs: Any) -> Any:
            kwargs["metadata"] = (*(kwargs.get("metadata") or ()), *outgoing_metadata())
            return method(request, **kwargs)

        self.__dict__[name] = call  # later lookups skip __getattr__
        return call


def traced_stub(stub: T) -> T:
    """``stub`` with trace propagation, typed as the stub itself."""
    return TracedStub(stub)  # type: ignore[return-value]


def _parent(context: Any) -> Any:
    carrier = {}
    for key, value in context.invocation_metadata() or ():
        if key in ("traceparent", "tracestate") and isinstance(value, str):
            carrier[key] = value
    return propagate.extract(carrier) if carrier else None


def untraced(fn: T) -> T:
    """Mark an RPC method ``traced_servicer`` leaves alone (e.g. a long-lived session stream
    that opens its own span per request)."""
    fn.__switchyard_untraced__ = True  # type: ignore[attr-defined]
    return fn


def context_from(carrier: dict[str, str]) -> Any:
    """A trace context from a carrier of ``traceparent``/``tracestate`` (None when empty)."""
    return propagate.extract(carrier) if carrier else None


def traced_servicer(servicer: T) -> T:
    """Run every RPC method of ``servicer`` in a server span named ``/package.Service/Method``."""
    base = next(
        c for c in type(servicer).__mro__ if c.__name__.endswith("Servicer") and c.__module__.endswith("_pb2_grpc")
    )
    package = base.__module__.rsplit(".", 1)[0]
    service = f"{package}.{base.__name__.removesuffix('Servicer')}"
    for name, member in vars(base).items():
        if name.startswith("_") or not callable(member):
            continue
        impl = getattr(servicer, name)
        if getattr(impl, "__switchyard_untraced__", False):
            continue
        span_name = f"/{service}/{name}"
        if inspect.isasyncgenfunction(impl):
            setattr(servicer, name, _wrap_stream(impl, span_name))
        else:
            setattr(servicer, name, _wrap_unary(impl, span_name))
    return servicer


def _wrap_unary(impl: Callable[..., Any], span_name: str) -> Callable[..., Any]:
    @functools.wraps(impl)
    async def handler(request: Any, context: Any) -> Any:
        with _tracer.start_as_current_span(span_name, context=_parent(context), kind=SpanKind.SERVER):
            return await impl(request, context)

    return handler


def _wrap_stream(impl: Callable[..., Any], span_name: str) -> Callable[..., Any]:
    @functools.wraps(impl)
    async def handler(request: Any, context: Any) -> Any:
        with _tracer.start_as_current_span(span_name, context=_parent(context), kind=SpanKind.SERVER):
            async for item in impl(request, context):
                yield item

    return handler
