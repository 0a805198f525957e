"""gRPC RouterService → planner, shared state, catalog and health checker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import grpc

from switchyard.llm.v1 import models_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2, router_pb2_grpc
from switchyard_common.rate_limits import MODE_FIRST
from switchyard_router.catalog import Catalog, CatalogError, NoModelStore
from switchyard_router.clients.health_check import HealthChecker, checkable
from switchyard_router.clients.state import OutcomeUpdate, SharedState
from switchyard_router.clients.store import STORE_ERRORS
from switchyard_router.domain.cooldown import Action, Decision, decide
from switchyard_router.domain.generation import Generation
from switchyard_router.domain.planner import Planner, limit_spec
from switchyard_router.domain.registry import Candidate, Registry, permits

WATCH_HEARTBEAT_SECONDS = 10.0

log = logging.getLogger(__name__)
T = TypeVar("T")


class RouterServicer(router_pb2_grpc.RouterServiceServicer):
    def __init__(
        self,
        planner: Planner,
        catalog: Catalog,
        state: SharedState,
        checker: HealthChecker | None,
        *,
        created: int,
        default_lease_seconds: float = 600.0,
        generation: Generation | None = None,
    ) -> None:
        self._generation = generation or Generation()
        self._planner = planner
        self._catalog = catalog
        self._state = state
        self._checker = checker
        self._created = created
        self._default_lease = default_lease_seconds
        self._by_id: dict[str, Candidate] = {}
        self._indexed: Registry | None = None

    # --- routing --------------------------------------------------------------------------
    async def WatchRouting(
        self, request: router_pb2.WatchRoutingRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[router_pb2.WatchRoutingResponse]:
        changed = asyncio.Event()

        def on_bump(_: int) -> None:
            changed.set()

        self._generation.subscribe(on_bump)
        try:
            while True:
                changed.clear()
                yield router_pb2.WatchRoutingResponse(generation=self._generation.value)
                # A heartbeat now and then lets the edge tell a quiet stream from a dead one.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(WATCH_HEARTBEAT_SECONDS):
                        await changed.wait()
        finally:
            self._generation.unsubscribe(on_bump)

    def _lease_seconds(self, timeout: float) -> float:
        # A margin past the request's own deadline, so a slow outcome report still finds its lease.
        return (timeout if timeout > 0 else self._default_lease) + 5.0

    async def Plan(self, request: router_pb2.PlanRequest, context: grpc.aio.ServicerContext) -> router_pb2.PlanResponse:
        resp, need = self._planner.plan(request, time.time())
        if need is None or resp.HasField("error"):
            return resp
        tokens = max(0, request.estimated_input_tokens)
        admission, lease_id = await self._state.admit(
            need.specs(),
            mode=need.mode,
            estimated_tokens=tokens,
            lease_seconds=self._lease_seconds(request.timeout_seconds),
        )
        lease = None
        if admission.index >= 0:
            lease = router_pb2.Lease(
                deployment_id=need.candidates[admission.index].id, lease_id=lease_id, reserved_tokens=tokens
            )
        self._planner.admit(resp, need, admission, lease)
        return resp

    def _candidate(self, deployment_id: str, model_group: str) -> Candidate | None:
        registry = self._planner.registry
        if self._indexed is not registry:
            self._by_id = {c.id: c for c in registry.all_candidates()}
            self._indexed = registry
        return self._by_id.get(deployment_id) or registry.find(deployment_id, model_group)

    async def Acquire(
        self, request: router_pb2.AcquireRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.AcquireResponse:
        cand = self._candidate(request.deployment_id, request.model_group)
        if cand is None or not self._planner.needs_admission([cand]):
            # Unknown (the registry changed under the request) or unlimited: nothing to count.
            return router_pb2.AcquireResponse(admitted=True)
        tokens = max(0, request.estimated_input_tokens)
        admission, lease_id = await self._state.admit(
            [limit_spec(cand)],
            mode=MODE_FIRST,
            estimated_tokens=tokens,
            lease_seconds=self._lease_seconds(request.timeout_seconds),
        )
        if admission.index < 0:
            out = router_pb2.AcquireResponse(admitted=False, reason=admission.reason)
            out.retry_after_seconds = admission.wait
            return out
        return router_pb2.AcquireResponse(
            admitted=True, lease=router_pb2.Lease(deployment_id=cand.id, lease_id=lease_id, reserved_tokens=tokens)
        )

    async def ReportOutcome(
        self, request: router_pb2.ReportOutcomeRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.ReportOutcomeResponse:
        policy = self._planner.policy
        updates = []
        for o in request.outcomes:
            cand = self._candidate(o.deployment_id, o.model_group)
            if cand is None and not o.lease_id:
                # Not a deployment this router knows (removed since, or a malformed report):
                # nothing to learn, and no state may be created for arbitrary ids.
                continue
            if o.skipped or cand is None:
                decision = Decision(Action.IGNORE)
                updates.append(OutcomeUpdate(o.deployment_id, o.lease_id, -o.reserved_tokens, 0, 0, decision, ""))
                continue
            decision = decide(
                policy,
                success=o.success,
                kind=o.error_kind,
                retry_after=o.retry_after_seconds if o.HasField("retry_after_seconds") else None,
                deployment_cooldown=cand.cooldown_time if cand is not None else None,
            )
            tracked = bool(o.lease_id) or policy.tracks_usage or (cand is not None and cand.tpm > 0)
            delta = o.total_tokens - o.reserved_tokens if tracked else 0
            reason = "" if o.success else f"{o.http_status} {ErrorKind.Name(o.error_kind).removeprefix('ERROR_KIND_')}"
            updates.append(
                OutcomeUpdate(
                    o.deployment_id,
                    o.lease_id,
                    delta,
                    o.latency_ms if o.success else 0.0,
                    o.ttft_ms if o.success and o.stream else 0.0,
                    decision,
                    reason,
                )
            )
        await self._state.report(updates)
        return router_pb2.ReportOutcomeResponse()

    async def ListModels(
        self, request: router_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.ListModelsResponse:
        names = self._planner.registry.public_names(request.allowed_models)
        return router_pb2.ListModelsResponse(
            models=[models_pb2.Model(id=n, created=self._created, owned_by="openai") for n in names]
        )

    # --- management -----------------------------------------------------------------------
    @staticmethod
    async def _change(context: grpc.aio.ServicerContext, change: Awaitable[T]) -> T:
        """A management change; a refusal (CatalogError) is left to the caller for the response's
        ``error``. A router without a database fails the call with FAILED_PRECONDITION, one whose
        database does not answer with UNAVAILABLE (switchyard/llm/v1/error.proto)."""
        try:
            return await change
        except NoModelStore as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except STORE_ERRORS:
            log.warning("model store failed", exc_info=True)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the router's model store is unavailable; try again shortly"
            )

    async def AddModel(
        self, request: router_pb2.AddModelRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.AddModelResponse:
        try:
            stored = await self._change(context, self._catalog.add(request.model, request.caller))
        except CatalogError as exc:
            return router_pb2.AddModelResponse(error=exc.error)
        return router_pb2.AddModelResponse(model=self._catalog.entry(stored))

    async def UpdateModel(
        self, request: router_pb2.UpdateModelRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.UpdateModelResponse:
        try:
            stored = await self._change(context, self._catalog.update(request))
        except CatalogError as exc:
            return router_pb2.UpdateModelResponse(error=exc.error)
        return router_pb2.UpdateModelResponse(model=self._catalog.entry(stored))

    async def DeleteModel(
        self, request: router_pb2.DeleteModelRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.DeleteModelResponse:
        try:
            stored = await self._change(context, self._catalog.delete(request.id))
        except CatalogError as exc:
            return router_pb2.DeleteModelResponse(error=exc.error)
        if stored is None:
            return router_pb2.DeleteModelResponse(model=router_pb2.ModelEntry(id=request.id))
        return router_pb2.DeleteModelResponse(model=self._catalog.entry(stored))

    async def GetModelInfo(
        self, request: router_pb2.GetModelInfoRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.GetModelInfoResponse:
        registry = self._planner.registry
        out = router_pb2.GetModelInfoResponse()
        for model_id, model in registry.by_id.items():
            if request.id and model_id != request.id:
                continue
            if not permits(request.allowed_models, [model.config.model_name], model.config.access_groups):
                continue
            out.models.append(self._catalog.entry(model, self._candidate(model_id, model.config.model_name)))
        return out

    async def GetModelGroupInfo(
        self, request: router_pb2.GetModelGroupInfoRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.GetModelGroupInfoResponse:
        registry = self._planner.registry
        now = time.time()
        out = router_pb2.GetModelGroupInfoResponse()
        for name, group in registry.groups.items():
            if request.model_group and name != request.model_group:
                continue
            if not permits(request.allowed_models, [name], group.access_groups):
                continue
            cands = group.candidates
            info = out.groups.add(
                model_group=name,
                providers=sorted({c.proto.provider for c in cands}),
                mode=cands[0].model.config.mode if cands else "chat",
                access_groups=sorted(group.access_groups),
                deployments=len(cands),
                healthy_deployments=sum(
                    1
                    for c in cands
                    if not self._planner.health.unhealthy(c.id) and not self._planner.cooldowns.cooling(c.id, now)
                ),
            )
            windows = [c.max_input_tokens for c in cands if c.max_input_tokens]
            if windows:
                info.max_input_tokens = max(windows)
            outs = [c.proto.max_output_tokens for c in cands if c.proto.max_output_tokens]
            if outs:
                info.max_output_tokens = max(outs)
            priced = [(c.cost or 0.0, c.rates) for c in cands if c.rates is not None]
            if priced:
                info.input_cost_per_token, info.output_cost_per_token = min(priced)[1]
            if cands and all(c.tpm for c in cands):
                info.tpm = sum(c.tpm for c in cands)
            if cands and all(c.rpm for c in cands):
                info.rpm = sum(c.rpm for c in cands)
            flags = [c.model.config.model_info for c in cands]
            info.supports_function_calling = any(bool(f.get("supports_function_calling")) for f in flags)
            info.supports_parallel_function_calling = any(
                bool(f.get("supports_parallel_function_calling")) for f in flags
            )
            info.supports_vision = any(bool(f.get("supports_vision")) for f in flags)
        return out

    # --- health ---------------------------------------------------------------------------
    async def GetHealth(
        self, request: router_pb2.GetHealthRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.GetHealthResponse:
        registry = self._planner.registry
        cands = [
            c
            for c in registry.all_candidates()
            if checkable(c) and (not request.model or request.model in (c.proto.model_group, c.id))
        ]
        health = self._planner.health
        fresh = {}
        if self._checker is not None and (
            request.check_now or not self._planner.policy.background_health_checks or not health.any_checked()
        ):
            fresh = await self._checker.check_now(cands)
        now = time.time()
        out = router_pb2.GetHealthResponse(checked=health.any_checked() or bool(fresh))
        for c in cands:
            r = fresh.get(c.id) or health.get(c.id)
            cooling = self._planner.cooldowns.get(c.id, now)
            d = out.deployments.add(
                deployment_id=c.id,
                model_group=c.proto.model_group,
                provider=c.proto.provider,
                model=c.proto.model,
                api_base=c.proto.api_base,
                healthy=(r is None or r.healthy) and cooling is None,
                cooling_down=cooling is not None,
            )
            if r is not None:
                d.checked_at = r.checked_at
                d.latency_ms = r.latency_ms
                d.error = r.error
            if cooling is not None:
                d.cooldown_remaining_seconds = cooling.until - now
                d.error = (d.error + "; " if d.error else "") + f"cooling down after {cooling.reason or 'failures'}"
        return out
