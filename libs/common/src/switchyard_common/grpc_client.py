"""Long-lived gRPC channels to peer services: bounded message size, keepalive, fast reconnects
(a restarted peer is usable again within about a second), trace propagation, and per-call
round-robin over every address the peer's name resolves to (a headless Kubernetes Service lists
each pod), so calls spread over replicas instead of sticking to one connection."""

from __future__ import annotations

import grpc

from switchyard_common.grpc_server import MAX_MESSAGE_BYTES


def channel(address: str) -> grpc.aio.Channel:
    """An insecure channel to ``host:port`` inside the cluster (mTLS is the mesh's job)."""
    target = address if "://" in address or address.startswith("dns:") else f"dns:///{address}"
    return grpc.aio.insecure_channel(
        target,
        options=[
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
        ],
    )
