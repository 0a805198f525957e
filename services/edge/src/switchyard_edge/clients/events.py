"""Usage events (one per attempt) to Kafka and outcome reports to the router, both off the
response path: publishing only appends to a buffer; reports are batched by a background task."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc
from google.protobuf import timestamp_pb2

from switchyard.auth.v1 import auth_pb2
from switchyard.events.v1 import usage_pb2
from switchyard.llm.v1 import chat_pb2, deployment_pb2, error_pb2
from switchyard.router.v1 import router_pb2
from switchyard_common.kafka import EventProducer
from switchyard_common.telemetry import inject_headers
from switchyard_edge.clients.peers import Peers
from switchyard_llm.event_fields import clean_usage_event

log = logging.getLogger(__name__)

# The requests' own values are capped far below this; a larger event carries a key's values from
# before the caps, and Kafka would refuse it (1 MiB): cleaned, it still bills the attempt.
MAX_USAGE_EVENT_BYTES = 256 * 1024


def _ts(t: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(t * 1e9))
    return ts


class UsagePublisher:
    def __init__(self, producer: EventProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    def publish(
        self,
        *,
        principal: auth_pb2.Principal,
        request_id: str,
        attempt: int,
        call_type: str,
        deployment: deployment_pb2.Deployment | None,
        model: str,
        stream: bool,
        error: error_pb2.Error | None,
        usage: chat_pb2.Usage | None,
        cost_usd: str,
        reservation_id: str,
        start: float,
        end: float,
        ttft_ms: float,
        final: bool,
        options: chat_pb2.RequestOptions,
        end_user: str,
    ) -> None:
        e = usage_pb2.UsageEvent(
            event_id=f"{request_id}:{attempt}",
            request_id=request_id,
            attempt=attempt,
            account_id=principal.account_id,
            key_hash=principal.key_hash,
            key_id=principal.key_id,
            key_alias=principal.key_alias,
            team_id=principal.team_id,
            user_id=principal.user_id,
            org_id=principal.org_id,
            end_user=end_user,
            call_type=call_type,
            stream=stream,
            success=error is None,
            cost_usd=cost_usd,
            reservation_id=reservation_id,
            start_time=_ts(start),
            end_time=_ts(end),
            ttft_ms=ttft_ms,
            # The key's tags go with every request of the key (LiteLLM), before the request's own.
            tags=list(dict.fromkeys([*principal.tags, *options.tags])) if principal.tags else options.tags,
            metadata_json=options.metadata_json,
            final=final,
            model=model,
            mock_response=options.HasField("mock_response"),
        )
        if deployment is not None:
            e.model_group = deployment.model_group
            e.deployment_id = deployment.id
            e.provider = deployment.provider
            e.model = deployment.model
        if error is not None:
            e.error_kind = error.kind
            e.http_status = error.http_status
            e.error_message = error.message[:1000]
        else:
            e.http_status = 200
        if usage is not None:
            e.usage.CopyFrom(usage)
        value = e.SerializeToString()
        if len(value) > MAX_USAGE_EVENT_BYTES:
            log.error("usage event too large; cleaned", extra={"bytes": len(value), "fields": clean_usage_event(e)})
            value = e.SerializeToString()
        self._producer.publish(self._topic, value, key=principal.account_id.encode(), headers=inject_headers())


class OutcomeReporter:
    """Sends attempt outcomes to the router in batches (one RPC per batch). A failure goes out at
    once (it may start a cooldown); successes wait up to ``interval`` seconds for company, so a
    busy edge sends one report per many requests instead of one each."""

    def __init__(self, peers: Peers, *, max_queue: int = 50_000, interval: float = 0.05) -> None:
        self._peers = peers
        self._queue: asyncio.Queue[router_pb2.Outcome] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None
        self._interval = interval

    def report(
        self,
        deployment: deployment_pb2.Deployment,
        *,
        success: bool,
        error: error_pb2.Error | None,
        latency_ms: float,
        ttft_ms: float,
        total_tokens: int,
        stream: bool,
        lease_id: str = "",
        reserved_tokens: int = 0,
        skipped: bool = False,
    ) -> None:
        r = router_pb2.Outcome(
            deployment_id=deployment.id,
            model_group=deployment.model_group,
            success=success,
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            total_tokens=total_tokens,
            stream=stream,
            lease_id=lease_id,
            reserved_tokens=reserved_tokens,
            skipped=skipped,
        )
        if error is not None:
            r.error_kind = error.kind
            r.http_status = error.http_status
            if error.HasField("retry_after_seconds"):
                r.retry_after_seconds = error.retry_after_seconds
        try:
            self._queue.put_nowait(r)
        except asyncio.QueueFull:
            log.warning("outcome report queue full; report dropped")

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outcome-reporter")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            urgent = not first.success or bool(first.lease_id)
            flush_at = loop.time() + self._interval
            while len(batch) < 500:
                while not self._queue.empty() and len(batch) < 500:
                    item = self._queue.get_nowait()
                    urgent = urgent or not item.success or bool(item.lease_id)
                    batch.append(item)
                if urgent or loop.time() >= flush_at:
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(flush_at - loop.time()):
                        item = await self._queue.get()
                    urgent = urgent or not item.success or bool(item.lease_id)
                    batch.append(item)
            try:
                await self._peers.router.ReportOutcome(router_pb2.ReportOutcomeRequest(outcomes=batch), timeout=1.0)
            except grpc.aio.AioRpcError as exc:
                # Outcomes are advisory (cooldowns, latency statistics): a batch lost while the
                # router is unreachable costs accuracy, never a request.
                log.debug("outcome report failed", extra={"code": exc.code().name, "batch": len(batch)})
