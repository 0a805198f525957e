"""gRPC RouterService → planner."""

from __future__ import annotations

import grpc

from switchyard.llm.v1 import models_pb2
from switchyard.router.v1 import router_pb2, router_pb2_grpc
from switchyard_router.domain.cooldown import Cooldowns
from switchyard_router.domain.planner import Planner


class RouterServicer(router_pb2_grpc.RouterServiceServicer):
    def __init__(self, planner: Planner, cooldowns: Cooldowns, created: int) -> None:
        self._planner = planner
        self._cooldowns = cooldowns
        self._created = created

    async def Plan(self, request: router_pb2.PlanRequest, context: grpc.aio.ServicerContext) -> router_pb2.PlanResponse:
        return self._planner.plan(request)

    async def ReportOutcome(
        self, request: router_pb2.ReportOutcomeRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.ReportOutcomeResponse:
        for o in request.outcomes:
            self._cooldowns.record(
                o.deployment_id,
                success=o.success,
                kind=o.error_kind,
                retry_after=o.retry_after_seconds if o.HasField("retry_after_seconds") else None,
            )
        return router_pb2.ReportOutcomeResponse()

    async def ListModels(
        self, request: router_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.ListModelsResponse:
        names = self._planner.registry.public_names(request.allowed_models)
        return router_pb2.ListModelsResponse(
            models=[models_pb2.Model(id=n, created=self._created, owned_by="openai") for n in names]
        )
