"""The error the edge raises anywhere in a request; rendered as OpenAI error JSON (HTTP) or a
gRPC status with the Error in trailing metadata (Gateway API)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import TypedError, make_error

T = TypeVar("T")


class GatewayError(TypedError):
    """A request that ends here with its Error; ``headers`` go on the HTTP answer (retry-after,
    rate limit headers)."""

    def __init__(self, error: error_pb2.Error, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.headers = headers or {}

    @classmethod
    def of(
        cls,
        kind: error_pb2.ErrorKind,
        message: str,
        *,
        param: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> GatewayError:
        return cls(make_error(kind, message, param=param, status=status, retry_after=retry_after))


def peer_failure(peer: str, exc: grpc.aio.AioRpcError, *, request_deadline: bool = False) -> GatewayError:
    """A peer service that did not answer: a clear 503, never a hang or a 500. ``request_deadline``:
    the call's deadline was the request's own (its ``timeout`` was about to run out), so a call
    that ran out of time is the request timing out (408), not the peer failing."""
    code = exc.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED and request_deadline:
        return GatewayError(
            make_error(
                ErrorKind.ERROR_KIND_TIMEOUT,
                f"Request timed out: its timeout ran out while waiting for the Switchyard {peer} service.",
                source=error_pb2.FAILURE_SOURCE_REQUEST,
            )
        )
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        # The peer is not set up for this call (a router without a database cannot manage models):
        # its reason is the operator's to read, and trying again does not help.
        return GatewayError.of(
            ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE, f"Switchyard {peer} service cannot do this: {exc.details()}"
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        reason = "did not answer in time"
    elif code == grpc.StatusCode.UNAVAILABLE:
        reason = "is unavailable"
    else:
        reason = f"failed ({code.name})"
    return GatewayError.of(
        ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE,
        f"Switchyard {peer} service {reason}; try again shortly.",
        retry_after=1.0,
    )


async def from_peer(peer: str, call: Awaitable[T]) -> T:
    """The answer of one call to ``peer``; a call that fails is ``peer_failure``."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise peer_failure(peer, exc) from None
