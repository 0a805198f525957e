"""Sampling of spans whose parent comes from a client's traceparent."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from switchyard_common.telemetry import OwnSamplingDecision

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _tracer(trust_inbound: bool) -> tuple[trace.Tracer, InMemorySpanExporter]:
    # What an operator configures with OTEL_TRACES_SAMPLER=parentbased_traceidratio, ARG=0:
    # sample none of the requests that start here.
    configured = ParentBased(TraceIdRatioBased(0.0))
    provider = TracerProvider(sampler=configured if trust_inbound else OwnSamplingDecision(configured))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def _client_context(flags: str) -> object:
    return TraceContextTextMapPropagator().extract({"traceparent": f"00-{CLIENT_TRACE}-00f067aa0ba902b7-{flags}"})


def test_a_clients_sampled_flag_cannot_force_sampling() -> None:
    tracer, exporter = _tracer(trust_inbound=False)
    with tracer.start_as_current_span("POST /v1/chat/completions", context=_client_context("01")) as span:
        ctx = span.get_span_context()
        assert f"{ctx.trace_id:032x}" == CLIENT_TRACE, "the client's trace id is kept for correlation"
        assert not ctx.trace_flags.sampled
        with tracer.start_as_current_span("child") as child:
            assert not child.get_span_context().trace_flags.sampled
    assert exporter.get_finished_spans() == ()


def test_trusted_services_follow_the_inbound_flag() -> None:
    tracer, exporter = _tracer(trust_inbound=True)
    with tracer.start_as_current_span("from the edge", context=_client_context("01")) as span:
        assert span.get_span_context().trace_flags.sampled
    assert len(exporter.get_finished_spans()) == 1


def test_own_rule_still_samples_what_it_would_sample_anyway() -> None:
    provider = TracerProvider(sampler=OwnSamplingDecision(ParentBased(TraceIdRatioBased(1.0))))
    tracer = provider.get_tracer("test")
    for flags in ("00", "01"):
        with tracer.start_as_current_span("x", context=_client_context(flags)) as span:
            assert span.get_span_context().trace_flags.sampled, flags
        with tracer.start_as_current_span("root") as root:
            assert root.get_span_context().trace_flags.sampled
