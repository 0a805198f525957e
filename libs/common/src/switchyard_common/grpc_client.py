"""Long-lived gRPC channels to peer services: bounded message size, keepalive, fast reconnects
(a restarted peer is usable again within about a second), trace propagation, and per-call
round-robin over every address the peer's name resolves to (a headless Kubernetes Service lists
each pod), so calls spread over replicas instead of sticking to one connection. With ``tls``,
the channel presents the service's client certificate and checks the peer's against the CA
(``switchyard_common.grpc_tls``); without, it is plaintext (e.g. under a service mesh, whose
sidecars then do mutual TLS)."""

from __future__ import annotations

import grpc

from switchyard_common.grpc_server import MAX_MESSAGE_BYTES
from switchyard_common.grpc_tls import ReloadingChannel, TlsFiles

_OPTIONS = [
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1_000),
    # Retries are the edge's decision (plans, budgets), never the transport's.
    ("grpc.enable_retries", 0),
]


def channel(address: str, tls: TlsFiles | None = None) -> grpc.aio.Channel:
    """A channel to ``host:port`` inside the cluster."""
    target = address if "://" in address or address.startswith("dns:") else f"dns:///{address}"
    if tls is not None:
        return ReloadingChannel(target, tls, _OPTIONS)
    return grpc.aio.insecure_channel(target, options=_OPTIONS)
