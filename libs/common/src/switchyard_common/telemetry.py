"""OpenTelemetry bootstrap: traces over HTTP, gRPC and Kafka with one trace id, JSON logs, and
Prometheus metrics. Exporters follow the standard ``OTEL_*`` variables, which are left to the SDK:
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) turns on OTLP/HTTP export,
``OTEL_TRACES_EXPORTER=console|none`` overrides it, ``OTEL_TRACES_SAMPLER`` picks the sampler."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

from switchyard_common.logging import configure_logging

_initialised = False


def _exporter() -> SpanExporter | None:
    # Standard variables, read through the SDK's own names (they are not our settings).
    env = os.environ
    choice = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if choice == "none":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if choice == "otlp" or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


class OwnSamplingDecision(Sampler):
    """Samples spans whose parent came from outside (a client's ``traceparent``) by this
    process's own rule: the client's trace id is kept, so its traces still join ours, but its
    sampled flag is not obeyed, so a client cannot push every request it makes into the tracing
    pipeline when the operator samples a fraction. Spans with a local parent, or none, follow
    the configured sampler."""

    def __init__(self, configured: Sampler) -> None:
        self._configured = configured
        # ParentBased keeps its root sampler as ``_root``; any other sampler is its own root.
        self._root: Sampler = (
            getattr(configured, "_root", configured) if isinstance(configured, ParentBased) else configured
        )

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        sampler = self._root if parent.is_valid and parent.is_remote else self._configured
        return sampler.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"OwnSamplingDecision{{{self._configured.get_description()}}}"


def init_telemetry(
    service_name: str,
    *,
    log_level: str = "INFO",
    metrics_port: int = 0,
    metrics_host: str = "0.0.0.0",
    trust_inbound_sampling: bool = True,
) -> None:
    """Configure logging, tracing and metrics once per process.

    Spans are always created, so trace ids reach logs, gRPC metadata and Kafka headers even when
    no exporter is configured; exporting is batched off the request path. A service that takes
    calls from outside (the edge) sets ``trust_inbound_sampling=False``: see ``OwnSamplingDecision``."""
    global _initialised
    if _initialised:
        return
    _initialised = True
    configure_logging(service_name, log_level)
    resource = Resource.create({"service.name": service_name, "service.namespace": "switchyard"})
    provider = TracerProvider(resource=resource)
    if not trust_inbound_sampling:
        provider = TracerProvider(resource=resource, sampler=OwnSamplingDecision(provider.sampler))
    exporter = _exporter()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)


def shutdown_telemetry() -> None:
    """Flush spans still in the export queue."""
    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if shutdown is not None:
        shutdown()


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


# --- Kafka header propagation -------------------------------------------------------------


class _HeaderSetter:
    def set(self, carrier: list[tuple[str, bytes]], key: str, value: str) -> None:
        carrier.append((key, value.encode()))


class _HeaderGetter:
    def get(self, carrier: Sequence[tuple[str, bytes]], key: str) -> list[str] | None:
        values = [v.decode() for k, v in carrier if k == key]
        return values or None

    def keys(self, carrier: Sequence[tuple[str, bytes]]) -> list[str]:
        return [k for k, _ in carrier]


_SETTER = _HeaderSetter()
_GETTER = _HeaderGetter()


def inject_headers(
    headers: list[tuple[str, bytes]] | None = None, ctx: Context | None = None
) -> list[tuple[str, bytes]]:
    """Kafka headers carrying the current (or given) trace context."""
    carrier: list[tuple[str, bytes]] = list(headers or [])
    propagate.inject(carrier, context=ctx, setter=_SETTER)  # type: ignore[arg-type]
    return carrier


def extract_headers(headers: Iterable[tuple[str, bytes]] | None) -> Context:
    """The trace context carried by Kafka headers (an empty context when there is none)."""
    return propagate.extract(list(headers or []), getter=_GETTER)  # type: ignore[arg-type]


def trace_id_of(headers: Iterable[tuple[str, bytes]] | None) -> str:
    """The trace id carried by Kafka headers, or ""."""
    ctx = trace.get_current_span(extract_headers(headers)).get_span_context()
    return f"{ctx.trace_id:032x}" if ctx.is_valid else ""


def attach(ctx: Context) -> object:
    return context.attach(ctx)


def detach(token: object) -> None:
    context.detach(token)  # type: ignore[arg-type]
