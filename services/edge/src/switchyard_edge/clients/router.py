"""The router as the request pipeline uses it: plans (from the edge's cache while the routing
watch is live), admissions of attempts the plan did not admit, outcome reports (batched off the
response path) and the model list."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc
from prometheus_client import Counter

from switchyard.llm.v1 import deployment_pb2, error_pb2, models_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2
from switchyard_edge.clients.events import OutcomeReporter
from switchyard_edge.clients.peers import Peers
from switchyard_edge.clients.routing_watch import RoutingWatch
from switchyard_edge.config import Settings
from switchyard_edge.domain.call import Call
from switchyard_edge.domain.plan_cache import PlanCache, cache_key
from switchyard_edge.errors import GatewayError, peer_failure

log = logging.getLogger(__name__)

PLANS = Counter("switchyard_edge_plans_total", "Routing plans used, by where they came from", ["source"])


class RouterClient:
    def __init__(
        self, peers: Peers, settings: Settings, plans: PlanCache, routing: RoutingWatch, outcomes: OutcomeReporter
    ) -> None:
        self._stub = peers.router
        self._timeout = settings.router_timeout_seconds
        self._max_num_retries = settings.max_num_retries
        self._plans = plans
        self._routing = routing
        self._outcomes = outcomes

    async def plan(self, call: Call) -> router_pb2.PlanResponse:
        """The plan for ``call``; raises the plan's error (unknown model, no deployments) or a
        503/408 when the router does not answer."""
        o = call.options
        req = router_pb2.PlanRequest(
            model=call.model,
            call_type=call.call_type.router_type,
            stream=call.stream,
            tags=o.tags,
            estimated_input_tokens=call.input_tokens,
            client_fallbacks=o.fallbacks,
            disable_fallbacks=o.disable_fallbacks,
            allowed_models=call.principal.models,
            team_models=call.principal.team_models,
            mock_testing_fallbacks=o.mock_testing_fallbacks,
            timeout_seconds=max(0.0, call.remaining()),
        )
        if o.HasField("num_retries"):
            if o.num_retries > self._max_num_retries:
                # Each attempt is a provider call and a usage event: a client may not ask for an
                # unbounded number of them.
                raise GatewayError.of(
                    ErrorKind.ERROR_KIND_BAD_REQUEST,
                    f"'num_retries' must be at most {self._max_num_retries}",
                    param="num_retries",
                )
            req.num_retries = o.num_retries
        cacheable = self._routing.live
        key = cache_key(req) if cacheable else b""
        plan = self._plans.get(key) if cacheable else None
        if plan is None:
            timeout = min(self._timeout, call.remaining())
            try:
                plan = await self._stub.Plan(req, timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                raise peer_failure("router", exc, request_deadline=timeout < self._timeout) from None
            if cacheable and plan.cache_ttl_ms:
                self._plans.put(key, plan)
            PLANS.labels("router").inc()
        else:
            PLANS.labels("cache").inc()
        if plan.HasField("error"):
            raise GatewayError(plan.error)
        return plan

    async def acquire(
        self, call: Call, group: router_pb2.CandidateGroup, dep: deployment_pb2.Deployment, remaining: float
    ) -> router_pb2.AcquireResponse | None:
        """Ask the router to admit an attempt the plan did not admit up front (retries and
        fallbacks of limited deployments); None when the router does not answer (the plan was
        admitted: a router that stopped answering since must not fail the retry that could save
        the request)."""
        req = router_pb2.AcquireRequest(
            deployment_id=dep.id,
            model_group=group.model_group,
            estimated_input_tokens=call.input_tokens,
            timeout_seconds=remaining,
        )
        try:
            return await self._stub.Acquire(req, timeout=min(self._timeout, remaining))
        except grpc.aio.AioRpcError:
            log.debug("router Acquire failed; attempting without admission", exc_info=True)
            return None

    def report(
        self,
        dep: deployment_pb2.Deployment,
        *,
        error: error_pb2.Error | None,
        latency_ms: float,
        ttft_ms: float,
        total_tokens: int,
        stream: bool,
        lease: router_pb2.Lease | None,
        skipped: bool,
    ) -> None:
        """An attempt's outcome (which also gives back the admission ``lease`` it used)."""
        self._outcomes.report(
            dep,
            success=error is None,
            error=error,
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            total_tokens=total_tokens,
            stream=stream,
            lease_id=lease.lease_id if lease else "",
            reserved_tokens=lease.reserved_tokens if lease else 0,
            skipped=skipped,
        )

    def release(self, lease: router_pb2.Lease, model_group: str, *, stream: bool) -> None:
        """Give back an admission no attempt used (or whose attempt was never reported)."""
        self._outcomes.report(
            deployment_pb2.Deployment(id=lease.deployment_id, model_group=model_group),
            success=False,
            error=None,
            latency_ms=0.0,
            ttft_ms=0.0,
            total_tokens=0,
            stream=stream,
            lease_id=lease.lease_id,
            reserved_tokens=lease.reserved_tokens,
            skipped=True,
        )

    def forget_plans(self) -> None:
        """A deployment failed and may be cooling down from now on: plan afresh until the router
        says what it decided."""
        self._plans.clear()

    async def list_models(self, allowed: Sequence[str]) -> list[models_pb2.Model]:
        try:
            resp = await self._stub.ListModels(
                router_pb2.ListModelsRequest(allowed_models=allowed), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_failure("router", exc) from None
        return list(resp.models)
