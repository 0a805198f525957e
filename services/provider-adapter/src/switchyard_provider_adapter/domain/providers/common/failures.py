"""Failures raised while a request is translated, before anything is sent to the provider."""

from __future__ import annotations

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_provider_adapter.domain.errors import ProviderFailure


def failure(
    kind: error_pb2.ErrorKind,
    provider: str,
    message: str,
    param: str = "",
    source: error_pb2.FailureSource = error_pb2.FAILURE_SOURCE_UNSPECIFIED,
) -> ProviderFailure:
    """A typed failure whose message starts with the provider's name."""
    return ProviderFailure(make_error(kind, f"{provider}: {message}", param=param, provider=provider, source=source))


def bad_request(provider: str, message: str, param: str = "") -> ProviderFailure:
    """A 400 for a request the provider cannot take: the request's fault, raised before anything
    is sent, so it says nothing about the deployment."""
    return failure(ErrorKind.ERROR_KIND_BAD_REQUEST, provider, message, param, error_pb2.FAILURE_SOURCE_REQUEST)


def auth_failure(provider: str, message: str) -> ProviderFailure:
    return failure(ErrorKind.ERROR_KIND_AUTHENTICATION, provider, message)


def unsupported(provider: str, message: str, param: str) -> ProviderFailure:
    """Input the provider has no way to take (an audio part, a tool type); ``message`` names the
    provider itself."""
    return ProviderFailure(
        make_error(
            ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS,
            message,
            param=param,
            provider=provider,
            source=error_pb2.FAILURE_SOURCE_REQUEST,
        )
    )


def unsupported_param(param: str, provider: str) -> ProviderFailure:
    return unsupported(
        provider,
        f"{provider} does not support parameter '{param}'. Set drop_params: true on the deployment "
        "or in the request to drop it instead.",
        param,
    )
