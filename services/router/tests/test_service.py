"""The RouterService over gRPC, in-process, on a real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import orjson
import pytest
import yaml

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2, router_pb2_grpc
from switchyard_router.config import Settings
from switchyard_router.server import Router, build


def dep(name: str, dep_id: str, **params: object) -> dict[str, object]:
    return {
        "model_name": name,
        "litellm_params": {"model": f"openai/{dep_id}", "api_base": "http://127.0.0.1:9/v1", **params},
        "model_info": {"id": dep_id},
    }


@pytest.fixture
async def router(
    tmp_path: Path, pg_dsn: str, redis_url: str
) -> AsyncIterator[tuple[Router, router_pb2_grpc.RouterServiceStub]]:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model_list": [
                    dep("limited", "lim-a", rpm=2, order=1),
                    dep("limited", "lim-b", rpm=1, order=2),
                    dep("free", "free-a"),
                    dep("free", "free-b"),
                ],
                "router_settings": {"num_retries": 1, "cooldown_time": 30, "fallbacks": [{"limited": ["free"]}]},
            }
        )
    )
    settings = Settings(
        config_path=str(config),
        database_url=pg_dsn,
        redis_url=redis_url,
        grpc_port=0,
        bind_host="127.0.0.1",
        redis_key_prefix=f"t:{uuid.uuid4().hex[:8]}:",
        provider_adapter_addr="127.0.0.1:9",
    )
    r = await build(settings)
    await r.service.start()
    await r.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{r.service.bound_port}")
    yield r, router_pb2_grpc.RouterServiceStub(channel)
    await channel.close()
    await r.service.stop()
    await r.stop()


def plan_req(model: str, **kw: object) -> router_pb2.PlanRequest:
    return router_pb2.PlanRequest(model=model, call_type=router_pb2.CALL_TYPE_CHAT, timeout_seconds=30, **kw)


async def test_plan_admits_acquire_admits_and_outcomes_release(
    router: tuple[Router, router_pb2_grpc.RouterServiceStub],
) -> None:
    _, stub = router
    first = await stub.Plan(plan_req("limited", estimated_input_tokens=12))
    assert not first.HasField("error")
    assert [d.id for d in first.groups[0].deployments] == ["lim-a", "lim-b"]
    assert first.lease.deployment_id == "lim-a" and first.lease.reserved_tokens == 12 and first.lease.lease_id
    assert first.groups[0].admission_required and not first.groups[1].admission_required
    # A retry on the second deployment asks for its own admission (rpm=1 there).
    ok = await stub.Acquire(router_pb2.AcquireRequest(deployment_id="lim-b", model_group="limited", timeout_seconds=30))
    assert ok.admitted and ok.lease.lease_id
    full = await stub.Acquire(router_pb2.AcquireRequest(deployment_id="lim-b", model_group="limited"))
    assert not full.admitted and full.reason == "rpm limit reached" and 59 < full.retry_after_seconds <= 60
    # Unlimited deployments need no admission.
    free = await stub.Acquire(router_pb2.AcquireRequest(deployment_id="free-a", model_group="free"))
    assert free.admitted and not free.lease.lease_id
    await stub.ReportOutcome(
        router_pb2.ReportOutcomeRequest(
            outcomes=[
                router_pb2.Outcome(
                    deployment_id="lim-a",
                    model_group="limited",
                    success=True,
                    lease_id=first.lease.lease_id,
                    reserved_tokens=12,
                    total_tokens=30,
                )
            ]
        )
    )
    second = await stub.Plan(plan_req("limited"))
    assert second.lease.deployment_id == "lim-a"  # rpm=2: room for one more
    third = await stub.Plan(plan_req("limited"))
    # Both deployments at their rpm: the primary group is empty, its fallback serves.
    assert not third.HasField("error") and not third.groups[0].deployments
    assert third.groups[0].empty_reason.kind == ErrorKind.ERROR_KIND_NO_DEPLOYMENTS
    assert third.groups[1].model_group == "free"
    alone = await stub.Plan(plan_req("limited", disable_fallbacks=True))
    assert alone.error.kind == ErrorKind.ERROR_KIND_NO_DEPLOYMENTS and alone.error.http_status == 429
    assert 0 < alone.error.retry_after_seconds <= 60


async def test_reported_429_cools_down_for_the_next_plan(
    router: tuple[Router, router_pb2_grpc.RouterServiceStub],
) -> None:
    _, stub = router
    await stub.ReportOutcome(
        router_pb2.ReportOutcomeRequest(
            outcomes=[
                router_pb2.Outcome(
                    deployment_id="free-a",
                    model_group="free",
                    success=False,
                    error_kind=ErrorKind.ERROR_KIND_RATE_LIMIT,
                    http_status=429,
                    retry_after_seconds=1,
                )
            ]
        )
    )
    for _ in range(5):
        p = await stub.Plan(plan_req("free"))
        assert [d.id for d in p.groups[0].deployments] == ["free-b"]
    info = await stub.GetModelGroupInfo(router_pb2.GetModelGroupInfoRequest(model_group="free"))
    assert info.groups[0].deployments == 2 and info.groups[0].healthy_deployments == 1


async def test_health_names_the_reason(router: tuple[Router, router_pb2_grpc.RouterServiceStub]) -> None:
    _, stub = router
    health = await stub.GetHealth(router_pb2.GetHealthRequest(model="free", check_now=True))
    assert {d.deployment_id for d in health.deployments} == {"free-a", "free-b"}
    # The adapter (our own service) is unreachable here: shown, but not held against the deployments.
    assert all(not d.healthy and "provider adapter unreachable" in d.error for d in health.deployments)
    assert not router[0].planner.health.any_checked()


async def test_runtime_models_through_the_service(router: tuple[Router, router_pb2_grpc.RouterServiceStub]) -> None:
    _, stub = router
    name = f"rt-{uuid.uuid4().hex[:6]}"
    entry = router_pb2.ModelEntry(
        model_name=name, litellm_params_json=orjson.dumps({"model": "openai/rt", "tpm": 1000}), model_info_json=b"{}"
    )
    added = await stub.AddModel(router_pb2.AddModelRequest(model=entry, caller="tester"))
    assert not added.HasField("error") and added.model.id and added.model.db_model
    models = await stub.ListModels(router_pb2.ListModelsRequest())
    assert name in {m.id for m in models.models}
    info = await stub.GetModelInfo(router_pb2.GetModelInfoRequest(id=added.model.id))
    assert orjson.loads(info.models[0].litellm_params_json)["tpm"] == 1000
    bad = await stub.AddModel(router_pb2.AddModelRequest(model=router_pb2.ModelEntry(model_name="x")))
    assert bad.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST
    gone = await stub.DeleteModel(router_pb2.DeleteModelRequest(id=added.model.id))
    assert gone.model.id == added.model.id
    p = await stub.Plan(plan_req(name))
    assert p.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and p.error.param == "model"
