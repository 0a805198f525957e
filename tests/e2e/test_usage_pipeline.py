"""Nothing a client sends can stop billing: values the ledger could not store, or a usage event
could not carry, are refused at the door (HTTP and gRPC), and spend rows keep arriving."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import openai
import orjson
import pytest

from devstack import stack
from e2e.support import MASTER_KEY, wait_for_spend
from switchyard.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from switchyard.llm.v1 import chat_pb2, error_pb2

HOSTILE: list[tuple[dict[str, Any], str]] = [
    ({"user": "cust\x00omer"}, "user"),
    ({"tags": ["prod", "t\x00ag"]}, "tags"),
    ({"metadata": {"session": {"note": "nul \x00 inside"}}}, "metadata"),
    ({"metadata": {"blob": "x" * (1024 * 1024)}}, "metadata"),
]


@pytest.mark.parametrize(("extra", "param"), HOSTILE)
def test_values_that_would_stop_the_ledger_are_refused_by_name(
    client: openai.OpenAI, extra: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="fake-chat", messages=[{"role": "user", "content": "hi"}], extra_body=extra
        )
    err = exc.value.body
    assert isinstance(err, dict) and err["type"] == "invalid_request_error" and err["param"] == param
    assert param in err["message"]


def test_spend_rows_keep_arriving_after_hostile_requests(client: openai.OpenAI, http: httpx.Client) -> None:
    for extra, _ in HOSTILE:
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(
                model="fake-chat", messages=[{"role": "user", "content": "hi"}], extra_body=extra
            )
    raw = client.chat.completions.with_raw_response.create(
        model="fake-chat",
        messages=[{"role": "user", "content": "hi"}],
        user="customer-42",
        extra_body={"tags": ["prod"], "metadata": {"trace": "t-1"}},
    )
    [row] = wait_for_spend(http, raw.headers["x-litellm-call-id"], timeout=15)
    assert row["user"] == "customer-42" and row["request_tags"] == ["prod"] and row["metadata"] == {"trace": "t-1"}


def test_key_settings_that_reach_events_are_bounded(http: httpx.Client) -> None:
    for body, field in (
        ({"key_alias": "alias\x00"}, "key_alias"),
        # Over the 64 KiB cap on metadata (a body over 1 MiB is refused before it is read: 413).
        ({"metadata": {"blob": "x" * (100 * 1024)}}, "metadata"),
        ({"tags": ["t\x00"]}, "tags"),
    ):
        resp = http.post("/key/generate", json=body)
        assert resp.status_code == 400 and field in resp.json()["detail"], resp.text


@pytest.fixture(scope="module")
def gateway(stack_cfg: stack.StackConfig) -> Iterator[gateway_pb2_grpc.GatewayServiceStub]:
    with grpc.insecure_channel(stack_cfg.addr("edge")) as ch:
        yield gateway_pb2_grpc.GatewayServiceStub(ch)


def _user_nul(r: chat_pb2.ChatCompletionRequest) -> None:
    r.user = "cust\x00omer"


def _tag_nul(r: chat_pb2.ChatCompletionRequest) -> None:
    r.options.tags.append("t\x00ag")


def _metadata_nul(r: chat_pb2.ChatCompletionRequest) -> None:
    r.options.metadata_json = b'{"note": "nul \\u0000 inside"}'


def _metadata_huge(r: chat_pb2.ChatCompletionRequest) -> None:
    r.options.metadata_json = orjson.dumps({"blob": "x" * (1024 * 1024)})


@pytest.mark.parametrize(
    ("spoil", "param"),
    [(_user_nul, "user"), (_tag_nul, "tags"), (_metadata_nul, "metadata"), (_metadata_huge, "metadata")],
)
def test_grpc_gateway_refuses_the_same_values(
    gateway: gateway_pb2_grpc.GatewayServiceStub, spoil: Any, param: str
) -> None:
    req = chat_pb2.ChatCompletionRequest(model="fake-chat")
    req.messages.add(role="user", text="hello over gRPC")
    spoil(req)
    with pytest.raises(grpc.RpcError) as exc:
        gateway.CreateChatCompletion(
            gateway_pb2.CreateChatCompletionRequest(request=req),
            metadata=(("authorization", f"Bearer {MASTER_KEY}"),),
            timeout=10,
        )
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    err = error_pb2.Error.FromString(dict(exc.value.trailing_metadata())["switchyard-error-bin"])
    assert err.http_status == 400 and err.param == param


def test_spend_logs_answer_within_a_byte_budget_and_page_on(http: httpx.Client, base_url: str) -> None:
    """Rows carry up to 64 KiB of metadata each: one answer stops at about 2 MiB and links to the
    next page, so no row count can make an answer unbounded."""
    key = http.post("/key/generate", json={"key_alias": f"pages-{uuid.uuid4()}"}).json()["key"]
    user = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=30)
    metadata = {"blob": "m" * 60_000}
    ids = []
    for _ in range(40):
        raw = user.chat.completions.with_raw_response.create(
            model="fake-chat", messages=[{"role": "user", "content": "hi"}], extra_body={"metadata": metadata}
        )
        ids.append(raw.headers["x-litellm-call-id"])
    wait_for_spend(http, ids[-1])  # one account's events arrive in order
    seen: list[str] = []
    pages = 0
    url: str | None = "/spend/logs"
    params: dict[str, Any] | None = {"api_key": key, "limit": "1000"}
    while url is not None:
        resp = http.get(url, params=params)
        assert resp.status_code == 200, resp.text
        assert len(resp.content) <= 2.1 * 1024 * 1024, f"page of {len(resp.content)} bytes"
        seen += [r["request_id"] for r in resp.json()]
        pages += 1
        url, params = resp.links.get("next", {}).get("url"), None
    assert pages >= 2
    assert sorted(seen) == sorted(ids), "every row exactly once across the pages"
