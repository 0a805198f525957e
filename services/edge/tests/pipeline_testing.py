"""An in-process request pipeline for unit tests: the real Gateway, admission, attempts loop,
accounting and stream code, with the edge's peers stood in for by objects that keep their RPCs'
contracts (scripted router plans, provider answers and guardrail decisions) and record what they
were sent. Rate limits run on the key limiter's local counters (no Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from switchyard.auth.v1 import auth_pb2
from switchyard.budget.v1 import budget_pb2
from switchyard.guardrail.v1 import guardrail_pb2
from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard.router.v1 import router_pb2
from switchyard_common.aio import BackgroundTasks
from switchyard_edge.clients.adapter import AdapterClient
from switchyard_edge.clients.budget_leases import BudgetLeases
from switchyard_edge.clients.customers import Customers
from switchyard_edge.clients.guardrail import GuardrailClient
from switchyard_edge.clients.key_limits import KeyLimiter
from switchyard_edge.clients.router import RouterClient
from switchyard_edge.config import Settings
from switchyard_edge.domain.plan_cache import PlanCache
from switchyard_edge.gateway import Gateway

PLAN_LEASE = "plan-lease"
# Admission prices of every deployment (USD per token).
INPUT_PRICE = 1e-6
OUTPUT_PRICE = 2e-6


def deployment(
    dep_id: str, group: str = "g", *, priced: bool = True, provider: str = "openai", model: str = ""
) -> deployment_pb2.Deployment:
    dep = deployment_pb2.Deployment(id=dep_id, model_group=group, provider=provider, model=model or f"m-{dep_id}")
    if priced:
        dep.pricing.admission_input_cost_per_token = INPUT_PRICE
        dep.pricing.admission_output_cost_per_token = OUTPUT_PRICE
    else:
        dep.pricing.admission_price_unknown = True
    return dep


def plan(*groups: tuple[int, list[deployment_pb2.Deployment]], num_retries: int = 0) -> router_pb2.PlanResponse:
    """A plan of (role, deployments) groups; the first deployment is admitted by the plan."""
    p = router_pb2.PlanResponse(model_group="g", max_fallbacks=5)
    p.retry_policy.num_retries = num_retries
    for role, deps in groups:
        g = p.groups.add(model_group=deps[0].model_group if deps else "empty", role=role)  # type: ignore[arg-type]
        g.deployments.extend(deps)
    first = p.groups[0].deployments[0]
    p.lease.CopyFrom(router_pb2.Lease(deployment_id=first.id, lease_id=PLAN_LEASE, reserved_tokens=10))
    return p


def principal(*, budget: bool = True, parallel: int = 1, guardrails: tuple[str, ...] = ()) -> auth_pb2.Principal:
    p = auth_pb2.Principal(account_id="acct", key_hash="k" * 64, has_budget=budget, guardrails=guardrails)
    p.limits.max_parallel_requests = parallel
    return p


def chat_request(**kw: Any) -> chat_pb2.ChatCompletionRequest:
    req = chat_pb2.ChatCompletionRequest(model="g", **kw)
    req.messages.add(role="user", text="hello there")
    return req


def completion(text: str = "hi", cost: str = "0.001") -> provider_pb2.ChatResponse:
    resp = provider_pb2.ChatResponse(stats=provider_pb2.CallStats(cost_usd=cost, upstream_ms=1.0))
    resp.completion.id = "c1"
    resp.completion.choices.add(index=0).message.text = text
    resp.completion.usage.prompt_tokens = 3
    resp.completion.usage.completion_tokens = 2
    resp.completion.usage.total_tokens = 5
    return resp


def failure(error: Any) -> provider_pb2.ChatResponse:
    return provider_pb2.ChatResponse(error=error)


class Hang:
    """A provider that never answers; ``called`` is set once the call is made."""

    def __init__(self) -> None:
        self.called = asyncio.Event()


class ScriptedStream:
    """A provider stream: the scripted messages (none for a Hang), then nothing more until
    cancelled."""

    def __init__(self, messages: list[provider_pb2.ChatStreamResponse] | Hang) -> None:
        self._queue: asyncio.Queue[provider_pb2.ChatStreamResponse] = asyncio.Queue()
        self._hang = messages if isinstance(messages, Hang) else None
        for m in messages if isinstance(messages, list) else []:
            self._queue.put_nowait(m)
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __aiter__(self) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        if self._hang is not None:
            self._hang.called.set()
        while True:
            yield await self._queue.get()


class Adapter:
    """The adapter sessions' contract: answers per deployment id, in order (a response, an
    exception to raise, or a Hang)."""

    def __init__(self, answers: dict[str, list[Any]] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[str] = []
        self.requests: list[Any] = []
        self.streams: list[ScriptedStream] = []

    async def Chat(self, req: provider_pb2.ChatRequest, *, timeout: float) -> provider_pb2.ChatResponse:
        self.calls.append(req.deployment.id)
        self.requests.append(req)
        answer = self.answers[req.deployment.id].pop(0)
        if isinstance(answer, Hang):
            answer.called.set()
            await asyncio.Event().wait()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def ChatStream(self, req: provider_pb2.ChatStreamRequest, *, timeout: float) -> ScriptedStream:
        self.calls.append(req.deployment.id)
        self.requests.append(req)
        stream = ScriptedStream(self.answers[req.deployment.id].pop(0))
        self.streams.append(stream)
        return stream

    async def CountTokens(self, req: provider_pb2.CountTokensRequest, *, timeout: float) -> Any:
        self.calls.append(req.deployment.id)
        self.requests.append(req)
        return self.answers[req.deployment.id].pop(0)


class Router:
    def __init__(self, plan: router_pb2.PlanResponse) -> None:
        self.plan = plan

    async def Plan(self, req: router_pb2.PlanRequest, *, timeout: float) -> router_pb2.PlanResponse:
        return self.plan


class Guardrail:
    def __init__(self, decision: int = guardrail_pb2.DECISION_ALLOW) -> None:
        self.decision = decision

    async def CheckInput(self, req: Any, *, timeout: float) -> guardrail_pb2.CheckInputResponse:
        return guardrail_pb2.CheckInputResponse(decision=self.decision, reason="blocked on purpose")  # type: ignore[arg-type]


class Budget:
    async def Lease(self, req: budget_pb2.LeaseRequest, *, timeout: float) -> budget_pb2.LeaseResponse:
        return budget_pb2.LeaseResponse(admitted=True, granted_usd="10")

    async def ReturnLease(self, req: Any, *, timeout: float) -> budget_pb2.ReturnLeaseResponse:
        return budget_pb2.ReturnLeaseResponse()


@dataclass
class Outcomes:
    reports: list[dict[str, Any]] = field(default_factory=list)

    def report(self, deployment: deployment_pb2.Deployment, **kw: Any) -> None:
        self.reports.append({"deployment_id": deployment.id, **kw})

    def lease_releases(self, lease_id: str) -> int:
        return sum(1 for r in self.reports if r["lease_id"] == lease_id)


@dataclass
class Usage:
    events: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, **kw: Any) -> None:
        self.events.append(kw)


@dataclass
class Pipeline:
    gateway: Gateway
    adapter: Adapter
    outcomes: Outcomes
    usage: Usage
    leases: BudgetLeases
    key_limits: KeyLimiter
    background: BackgroundTasks

    async def slot_free(self, who: auth_pb2.Principal) -> bool:
        """Whether the key (max_parallel_requests=1) may start another request now."""
        try:
            ticket = await self.key_limits.acquire(who, 0, 1.0)
        except Exception:
            return False
        self.key_limits.release(ticket, 0)
        return True

    def budget_lease(self) -> Any:
        (lease,) = self.leases.active()
        return lease


def pipeline(
    the_plan: router_pb2.PlanResponse,
    adapter: Adapter,
    *,
    guardrail: Guardrail | None = None,
    settings: Callable[[Settings], None] | None = None,
) -> Pipeline:
    s = Settings(kafka_bootstrap_servers="unused:9092", redis_url="redis://unused", database_url="postgresql://unused")
    if settings is not None:
        settings(s)
    peers: Any = SimpleNamespace(router=Router(the_plan), guardrail=guardrail or Guardrail(), budget=Budget())
    background = BackgroundTasks()
    outcomes, usage = Outcomes(), Usage()
    routing: Any = SimpleNamespace(live=False)
    router = RouterClient(peers, s, PlanCache(), routing, outcomes)  # type: ignore[arg-type]
    leases = BudgetLeases(peers, background, timeout=1.0)
    key_limits = KeyLimiter(None, background)
    gateway = Gateway(
        s,
        SimpleNamespace(),  # type: ignore[arg-type]
        router,
        GuardrailClient(peers, s),
        AdapterClient(adapter),  # type: ignore[arg-type]
        usage,  # type: ignore[arg-type]
        leases,
        key_limits,
        Customers(None, timeout=1.0),
    )
    return Pipeline(gateway, adapter, outcomes, usage, leases, key_limits, background)
