"""Delivery to the logging receivers, against the fake Langfuse and webhook servers (their real
wire formats): who gets what, redaction, and what happens when a receiver is away or refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiokafka.structs import ConsumerRecord
from switchyard_callbacks.clients.sinks import GenericApi, Langfuse, Unavailable
from switchyard_callbacks.delivery import Delivery, transient
from switchyard_callbacks.domain.records import REDACTED, routing

from switchyard.events.v1 import usage_pb2
from switchyard_common.kafka import PoisonMessage
from switchyard_fakes import langfuse_server, webhook_server
from switchyard_fakes.base import Reply, Running
from switchyard_fakes.langfuse_server import DOWN, RECEIVED


def _event(request_id: str = "call-1", *, success: bool = True) -> usage_pb2.UsageEvent:
    e = usage_pb2.UsageEvent(
        event_id=f"{request_id}:0",
        request_id=request_id,
        call_type="chat.completions",
        model_group="gpt",
        model="gpt-4o",
        success=success,
        cost_usd="0.0012",
        end_user="u1",
        error_message="" if success else "boom",
        http_status=200 if success else 500,
    )
    e.usage.prompt_tokens, e.usage.completion_tokens, e.usage.total_tokens = 3, 4, 7
    e.start_time.FromSeconds(1_700_000_000)
    e.end_time.FromSeconds(1_700_000_001)
    return e


def _record(e: usage_pb2.UsageEvent) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("usage", 0, 1, 0, 0, b"acct", e.SerializeToString(), None, 4, 10, [])


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[Running, Running, aiohttp.ClientSession]]:
    async with (
        Running(langfuse_server.create_app()) as lf,
        Running(webhook_server.create_app()) as hook,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
    ):
        yield lf, hook, session


def _delivery(settings: dict[str, Any], lf: Running, hook: Running, session: aiohttp.ClientSession) -> Delivery:
    route, _ = routing(settings)
    return Delivery(
        route,
        {
            "langfuse": Langfuse(session, lf.url, langfuse_server.PUBLIC_KEY, langfuse_server.SECRET_KEY),
            "generic_api": GenericApi(session, f"{hook.url}/logs", {"Authorization": "Bearer t"}),
        },
    )


async def test_success_and_failure_callbacks_route_by_outcome(receivers: Any) -> None:
    lf, hook, session = receivers
    deliver = _delivery({"success_callback": ["langfuse"], "failure_callback": ["generic_api"]}, lf, hook, session)
    await deliver(_record(_event("ok")))
    await deliver(_record(_event("bad", success=False)))
    assert [e["body"]["id"] for e in lf.app[RECEIVED] if e["type"] == "trace-create"] == ["ok"]
    [failed] = hook.app[RECEIVED]
    assert failed["record"]["id"] == "bad" and failed["record"]["error_information"]["error_message"] == "boom"
    assert failed["headers"]["Authorization"] == "Bearer t" and failed["headers"]["Idempotency-Key"] == "bad:0"


async def test_turn_off_message_logging_redacts_as_litellm(receivers: Any) -> None:
    lf, hook, session = receivers
    deliver = _delivery({"callbacks": ["langfuse", "generic_api"], "turn_off_message_logging": True}, lf, hook, session)
    await deliver(_record(_event()))
    assert hook.app[RECEIVED][0]["record"]["messages"] == REDACTED
    assert {e["body"]["input"] for e in lf.app[RECEIVED]} == {REDACTED}


async def test_a_receiver_away_is_retried_without_resending_to_the_others(receivers: Any) -> None:
    lf, hook, session = receivers
    deliver = _delivery({"success_callback": ["langfuse", "generic_api"]}, lf, hook, session)
    hook.app[DOWN][:] = [True]
    with pytest.raises(Unavailable) as exc:
        await deliver(_record(_event()))
    assert transient(exc.value)
    hook.app[DOWN][:] = [False]
    await deliver(_record(_event()))
    assert len(hook.app[RECEIVED]) == 1
    assert len([e for e in lf.app[RECEIVED] if e["type"] == "generation-create"]) == 1


async def test_a_record_refused_for_good_is_dead_lettered(receivers: Any) -> None:
    lf, hook, session = receivers
    deliver = _delivery({"success_callback": ["langfuse", "generic_api"]}, lf, hook, session)
    lf.app[langfuse_server.STATE].script("*", Reply(status=401, body={"message": "Invalid public or secret key"}))
    with pytest.raises(PoisonMessage) as exc:
        await deliver(_record(_event()))
    assert not transient(exc.value) and "401" in str(exc.value)
    assert len(hook.app[RECEIVED]) == 1  # the other receiver still got it


async def test_an_undecodable_record_is_poison(receivers: Any) -> None:
    lf, hook, session = receivers
    deliver = _delivery({"success_callback": ["langfuse"]}, lf, hook, session)
    bad = ConsumerRecord("usage", 0, 1, 0, 0, b"acct", b"\xff\xff", None, 4, 2, [])
    with pytest.raises(PoisonMessage):
        await deliver(bad)


def test_callbacks_not_delivered_are_reported_by_name() -> None:
    route, ignored = routing({"success_callback": ["langfuse", "datadog"], "callbacks": ["prometheus"]})
    assert route.on_success == {"langfuse"} and not route.on_failure
    assert [line.split("'")[1] for line in ignored] == ["datadog", "prometheus"]
