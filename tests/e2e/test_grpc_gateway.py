"""The edge's gRPC Gateway API: the same pipeline as HTTP, for internal services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from devstack import stack
from e2e.support import MASTER_KEY
from switchyard.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from switchyard.llm.v1 import chat_pb2, embeddings_pb2, error_pb2


@pytest.fixture(scope="module")
def gateway(stack_cfg: stack.StackConfig) -> Iterator[gateway_pb2_grpc.GatewayServiceStub]:
    with grpc.insecure_channel(stack_cfg.addr("edge")) as ch:
        yield gateway_pb2_grpc.GatewayServiceStub(ch)


def _request(stream: bool = False) -> chat_pb2.ChatCompletionRequest:
    req = chat_pb2.ChatCompletionRequest(model="fake-chat", stream=stream)
    req.messages.add(role="user", text="hello over gRPC")
    return req


AUTH = (("authorization", f"Bearer {MASTER_KEY}"),)


def test_unary_completion(gateway: gateway_pb2_grpc.GatewayServiceStub) -> None:
    resp = gateway.CreateChatCompletion(
        gateway_pb2.CreateChatCompletionRequest(request=_request()), metadata=AUTH, timeout=10
    )
    assert resp.completion.choices[0].message.text.startswith("Hello from the Switchyard fake upstream")
    assert resp.completion.usage.completion_tokens == 13
    assert resp.info.call_id and resp.info.model_group == "fake-chat"
    assert float(resp.info.response_cost) > 0


def test_streaming_completion(gateway: gateway_pb2_grpc.GatewayServiceStub) -> None:
    msgs = list(
        gateway.StreamChatCompletion(
            gateway_pb2.StreamChatCompletionRequest(request=_request(True)),
            metadata=(("x-api-key", MASTER_KEY),),
            timeout=10,
        )
    )
    text = "".join(c.delta.content for m in msgs for c in m.chunk.choices)
    assert text.endswith("through the whole gateway.")
    assert msgs[-1].info.call_id and msgs[-1].chunk.usage.total_tokens > 0


def test_bad_key_is_unauthenticated_with_error_detail(gateway: gateway_pb2_grpc.GatewayServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        gateway.CreateChatCompletion(
            gateway_pb2.CreateChatCompletionRequest(request=_request()),
            metadata=(("authorization", "Bearer sk-wrong"),),
            timeout=10,
        )
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED
    trailer = dict(exc.value.trailing_metadata())["switchyard-error-bin"]
    err = error_pb2.Error.FromString(trailer)
    assert err.http_status == 401 and err.kind == error_pb2.ERROR_KIND_AUTHENTICATION


def test_list_models(gateway: gateway_pb2_grpc.GatewayServiceStub) -> None:
    resp = gateway.ListModels(gateway_pb2.ListModelsRequest(), metadata=AUTH, timeout=10)
    assert "fake-chat" in {m.id for m in resp.models}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "spoil, param",
    [
        (lambda r: setattr(r.messages[0], "role", "robot"), "messages[0]"),
        (lambda r: setattr(r, "extra_json", b"{not json"), "extra_json"),
        (lambda r: setattr(r, "temperature", float("nan")), "temperature"),
        (lambda r: r.tools.add(type="function"), "tools[0]"),
    ],
)
def test_malformed_protobuf_requests_are_invalid_argument(
    gateway: gateway_pb2_grpc.GatewayServiceStub, spoil: Any, param: str, stream: bool
) -> None:
    # What the HTTP API refuses with a 400, the gRPC API refuses before it reaches a provider.
    req = _request(stream)
    spoil(req)
    with pytest.raises(grpc.RpcError) as exc:
        if stream:
            list(
                gateway.StreamChatCompletion(
                    gateway_pb2.StreamChatCompletionRequest(request=req), metadata=AUTH, timeout=10
                )
            )
        else:
            gateway.CreateChatCompletion(
                gateway_pb2.CreateChatCompletionRequest(request=req), metadata=AUTH, timeout=10
            )
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    err = error_pb2.Error.FromString(dict(exc.value.trailing_metadata())["switchyard-error-bin"])
    assert err.http_status == 400 and err.param == param


def test_malformed_protobuf_embedding_is_invalid_argument(gateway: gateway_pb2_grpc.GatewayServiceStub) -> None:
    req = embeddings_pb2.EmbeddingRequest(model="fake-embedding", extra_json=b"[oops")
    req.texts.values.append("x")
    with pytest.raises(grpc.RpcError) as exc:
        gateway.CreateEmbedding(gateway_pb2.CreateEmbeddingRequest(request=req), metadata=AUTH, timeout=10)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("field", ["native", "text_completion"])
def test_fields_only_the_http_dialects_set_are_refused(
    gateway: gateway_pb2_grpc.GatewayServiceStub, field: str
) -> None:
    """A native body would go to the provider unchecked by guardrails (they check the messages),
    and the HTTP dialects alone set these fields, after their own checks."""
    req = _request()
    if field == "native":
        req.native.api = "responses"
        req.native.body_json = b'{"input": "my key is AKIAABCDEFGHIJKLMNOP"}'
    else:
        req.text_completion.echo = True
    with pytest.raises(grpc.RpcError) as exc:
        gateway.CreateChatCompletion(gateway_pb2.CreateChatCompletionRequest(request=req), metadata=AUTH, timeout=10)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (exc.value.details() or "")
