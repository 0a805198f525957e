"""What a logging callback receives for one usage event: LiteLLM's ``StandardLoggingPayload``
(docs/proxy/logging_spec.md; the generic_api body) and Langfuse's ingestion batch, built from the
event alone, so a redelivered event builds the same record with the same ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from switchyard.events.v1 import usage_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind

# Callbacks this service delivers.
DELIVERED = frozenset({"langfuse", "generic_api"})
# What LiteLLM writes in place of message content when message logging is off.
REDACTED = "redacted-by-litellm"


@dataclass(frozen=True, slots=True)
class Routing:
    """Which receivers get which events: ``success_callback`` the answered attempts,
    ``failure_callback`` the failed ones, ``callbacks`` both (as in LiteLLM)."""

    on_success: frozenset[str]
    on_failure: frozenset[str]
    # litellm_settings.turn_off_message_logging: message content never leaves the gateway.
    redact: bool

    def receivers(self, success: bool) -> frozenset[str]:
        return self.on_success if success else self.on_failure

    @property
    def any(self) -> bool:
        return bool(self.on_success or self.on_failure)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def routing(litellm_settings: Mapping[str, Any]) -> tuple[Routing, list[str]]:
    """The routing of ``litellm_settings`` and, for the startup report, each callback named there
    that this service does not deliver, with why."""
    both = _names(litellm_settings.get("callbacks"))
    success = _names(litellm_settings.get("success_callback")) + both
    failure = _names(litellm_settings.get("failure_callback")) + both
    ignored = [
        f"litellm_settings callback {name!r} is not delivered by Switchyard (delivered: {', '.join(sorted(DELIVERED))})"
        for name in dict.fromkeys([*success, *failure])
        if name not in DELIVERED
    ]
    return (
        Routing(
            on_success=frozenset(success) & DELIVERED,
            on_failure=frozenset(failure) & DELIVERED,
            redact=bool(litellm_settings.get("turn_off_message_logging")),
        ),
        ignored,
    )


def _seconds(ts: Any) -> float:
    return float(ts.seconds) + ts.nanos / 1e9


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _cost(text: str) -> float:
    try:
        return float(Decimal(text)) if text else 0.0
    except InvalidOperation:
        return 0.0


def _metadata(raw: bytes) -> Any:
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}


def standard_payload(e: usage_pb2.UsageEvent, *, redact: bool) -> dict[str, Any]:
    """LiteLLM's StandardLoggingPayload for one attempt. The event carries no message content,
    so ``messages`` and ``response`` are empty (or LiteLLM's redaction marker when message
    logging is off, as LiteLLM sends them)."""
    start, end = _seconds(e.start_time), _seconds(e.end_time)
    payload: dict[str, Any] = {
        "id": e.request_id,
        "trace_id": e.request_id,
        "event_id": e.event_id,
        "call_type": e.call_type,
        "stream": e.stream,
        "status": "success" if e.success else "failure",
        "response_cost": _cost(e.cost_usd),
        "prompt_tokens": e.usage.prompt_tokens,
        "completion_tokens": e.usage.completion_tokens,
        "total_tokens": e.usage.total_tokens,
        "startTime": start,
        "endTime": end,
        "completionStartTime": start + e.ttft_ms / 1000 if e.ttft_ms else end,
        "response_time": end - start,
        "model": e.model,
        "model_id": e.deployment_id,
        "model_group": e.model_group,
        "custom_llm_provider": e.provider,
        "metadata": {
            "user_api_key_hash": e.key_hash,
            "user_api_key_alias": e.key_alias,
            "user_api_key_team_id": e.team_id,
            "user_api_key_org_id": e.org_id,
            "user_api_key_user_id": e.user_id,
            "user_api_key_end_user_id": e.end_user,
            "spend_logs_metadata": _metadata(e.metadata_json),
            "attempt": e.attempt,
        },
        "cache_hit": False,
        "request_tags": list(e.tags),
        "end_user": e.end_user,
        "messages": REDACTED if redact else None,
        "response": REDACTED if redact else None,
        "hidden_params": {"mock_response": e.mock_response},
        "error_information": None,
    }
    if not e.success:
        payload["error_information"] = {
            "error_code": str(e.http_status),
            "error_class": ErrorKind.Name(e.error_kind),
            "error_message": e.error_message,
        }
    return payload


def langfuse_batch(e: usage_pb2.UsageEvent, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Langfuse's ingestion body for one attempt: the request's trace (id = the call id, so
    every attempt of a request lands on one trace) and the attempt's generation (id = the event
    id). Ingestion upserts by these ids, so a redelivered event changes nothing."""
    start, end = payload["startTime"], payload["endTime"]
    metadata = payload["metadata"]
    trace = {
        "id": e.request_id,
        "name": f"litellm-{e.call_type}",
        "timestamp": _iso(start),
        "userId": e.end_user or None,
        "tags": list(e.tags),
        "metadata": metadata,
        "input": payload["messages"],
        "output": payload["response"],
    }
    generation = {
        "id": e.event_id,
        "traceId": e.request_id,
        "name": f"litellm-{e.call_type}",
        "startTime": _iso(start),
        "endTime": _iso(end),
        "completionStartTime": _iso(payload["completionStartTime"]),
        "model": e.model,
        "input": payload["messages"],
        "output": payload["response"],
        "usage": {
            "input": e.usage.prompt_tokens,
            "output": e.usage.completion_tokens,
            "total": e.usage.total_tokens,
            "unit": "TOKENS",
        },
        "costDetails": {"total": payload["response_cost"]},
        "metadata": {**metadata, "model_group": e.model_group, "model_id": e.deployment_id},
        "level": "DEFAULT" if e.success else "ERROR",
        "statusMessage": None if e.success else e.error_message,
    }
    return {
        "batch": [
            {"id": f"{e.event_id}:trace", "type": "trace-create", "timestamp": _iso(end), "body": trace},
            {"id": f"{e.event_id}:generation", "type": "generation-create", "timestamp": _iso(end), "body": generation},
        ]
    }


def generic_headers(env_value: str, configured: Iterable[tuple[str, str]]) -> dict[str, str]:
    """generic_api's headers: LiteLLM's ``GENERIC_LOGGER_HEADERS`` ("Name=value,Other=value"),
    then ``callback_settings.generic_api.headers`` (values already resolved)."""
    headers: dict[str, str] = {}
    for part in env_value.split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            headers[name.strip()] = value.strip()
    headers.update(configured)
    return headers
