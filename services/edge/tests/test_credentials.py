"""Where the edge finds the caller's credential, on HTTP and on gRPC: one rule for both."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from switchyard_edge.handlers.grpc_gateway import _credential
from switchyard_edge.handlers.httpio import credential_of


def _http(*headers: tuple[str, str]) -> Request:
    return Request({"type": "http", "headers": [(k.encode(), v.encode()) for k, v in headers]})


class _Context:
    def __init__(self, *metadata: tuple[str, str]) -> None:
        self._md = metadata

    def invocation_metadata(self) -> Any:
        return self._md


def test_the_session_cookie_is_a_credential_when_no_header_names_one() -> None:
    assert credential_of(_http(("cookie", "theme=dark; token=eyJ.a.b"))) == "eyJ.a.b"
    assert _credential(_Context(("cookie", "theme=dark; token=eyJ.a.b"))) == "eyJ.a.b"  # type: ignore[arg-type]


def test_a_header_wins_over_the_cookie() -> None:
    both = (("authorization", "Bearer sk-header"), ("cookie", "token=eyJ.a.b"))
    assert credential_of(_http(*both)) == "sk-header"
    assert _credential(_Context(*both)) == "sk-header"  # type: ignore[arg-type]
    assert credential_of(_http(("x-api-key", " sk-x "), ("cookie", "token=eyJ.a.b"))) == "sk-x"


def test_bearer_tokens_on_grpc_metadata() -> None:
    assert _credential(_Context(("authorization", "Bearer eyJ.s.t"))) == "eyJ.s.t"  # type: ignore[arg-type]
    assert _credential(_Context()) == ""  # type: ignore[arg-type]
