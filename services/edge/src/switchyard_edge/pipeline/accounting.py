"""Recording an attempt once it is over: its cost and tokens join the request's totals, its usage
event goes to Kafka and its outcome to the router (both off the response path)."""

from __future__ import annotations

import time

from switchyard.llm.v1 import deployment_pb2
from switchyard_edge.clients.events import UsagePublisher
from switchyard_edge.clients.router import RouterClient
from switchyard_edge.domain import charging
from switchyard_edge.domain.call import Attempt, Call
from switchyard_edge.pipeline.admission import Admission


class Accounting:
    def __init__(self, usage: UsagePublisher, router: RouterClient) -> None:
        self._usage = usage
        self._router = router

    def record(
        self,
        adm: Admission,
        dep: deployment_pb2.Deployment,
        attempt: Attempt,
        *,
        final: bool,
        started: float,
        report: bool = True,
    ) -> None:
        """``final``: the request's last attempt. ``report=False``: an attempt not really made
        (mock_testing_fallbacks), which tells the router nothing."""
        call: Call = adm.call
        stats = attempt.stats
        usage = charging.usage_of(attempt)
        call.count(stats, usage)
        reservation_id = adm.reservation_id
        self._usage.publish(
            principal=call.principal,
            request_id=call.call_id,
            attempt=call.attempt,
            call_type=call.call_type.value,
            deployment=dep,
            model=call.model,
            stream=call.stream,
            error=attempt.error,
            usage=usage,
            cost_usd=stats.cost_usd if stats else "",
            # Under a budget lease every attempt's cost settles against the lease, and no event
            # closes a reservation of its own.
            reservation_id=reservation_id,
            start=started,
            end=time.time(),
            ttft_ms=stats.ttft_ms if stats else 0.0,
            final=final and not reservation_id,
            options=call.options,
            end_user=call.end_user,
        )
        lease = adm.take_lease()
        # A mocked answer says nothing about the deployment either.
        outcome = charging.outcome(attempt.error, reported=report and not call.options.HasField("mock_response"))
        if outcome.blame:
            self._router.forget_plans()
        if not outcome.skipped or lease is not None:
            self._router.report(
                dep,
                error=attempt.error,
                latency_ms=stats.upstream_ms if stats else 0.0,
                ttft_ms=stats.ttft_ms if stats else 0.0,
                total_tokens=usage.total_tokens if usage else 0,
                stream=call.stream,
                lease=lease,
                skipped=outcome.skipped,
            )
        call.attempt += 1
