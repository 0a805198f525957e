"""The request pipeline behind both front doors (HTTP and the gRPC Gateway API):
authenticate → plan (router) → admit (copilot-budget reservation) → guardrails → execute the plan
against provider-adapter workers with retries and fallbacks → usage events and outcome reports."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from prometheus_client import Counter

from switchyard.auth.v1 import auth_pb2
from switchyard.guardrail.v1 import guardrail_pb2
from switchyard.llm.v1 import chat_pb2, deployment_pb2, embeddings_pb2, error_pb2, images_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard.router.v1 import router_pb2
from switchyard_common.aio import BackgroundTasks
from switchyard_common.errors import counts_against_deployment, make_error
from switchyard_edge import stream_guard
from switchyard_edge.clients.budget_leases import BudgetLeases, Hold
from switchyard_edge.clients.events import OutcomeReporter, UsagePublisher
from switchyard_edge.clients.key_limits import KeyLimiter, Ticket, has_limits
from switchyard_edge.clients.peers import Peers
from switchyard_edge.clients.principals import Principals
from switchyard_edge.clients.routing_watch import RoutingWatch
from switchyard_edge.config import Settings
from switchyard_edge.domain import estimate
from switchyard_edge.domain.plan_cache import PlanCache, cache_key
from switchyard_edge.errors import GatewayError, peer_failure

log = logging.getLogger(__name__)
K = error_pb2.ErrorKind

PLANS = Counter("switchyard_edge_plans_total", "Routing plans used, by where they came from", ["source"])

RETRYABLE = frozenset(
    {
        K.ERROR_KIND_RATE_LIMIT,
        K.ERROR_KIND_TIMEOUT,
        K.ERROR_KIND_INTERNAL_SERVER,
        K.ERROR_KIND_BAD_GATEWAY,
        K.ERROR_KIND_SERVICE_UNAVAILABLE,
        K.ERROR_KIND_API_CONNECTION,
    }
)
# Errors after which another model group may succeed (client mistakes such as 400 are final).
FALLBACK_ON = RETRYABLE | {
    K.ERROR_KIND_AUTHENTICATION,
    K.ERROR_KIND_PERMISSION_DENIED,
    K.ERROR_KIND_NOT_FOUND,
    K.ERROR_KIND_NO_DEPLOYMENTS,
    K.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
    K.ERROR_KIND_CONTENT_POLICY_VIOLATION,
}

T = TypeVar("T")

CALL_TYPES = {
    router_pb2.CALL_TYPE_CHAT: "chat.completions",
    router_pb2.CALL_TYPE_EMBEDDING: "embeddings",
    router_pb2.CALL_TYPE_IMAGE_GENERATION: "image_generation",
}


@dataclass
class Call:
    """State of one client request across its attempts."""

    principal: auth_pb2.Principal
    call_id: str
    call_type: router_pb2.CallType
    model: str
    stream: bool
    options: chat_pb2.RequestOptions
    end_user: str
    started: float = field(default_factory=time.perf_counter)
    start_wall: float = field(default_factory=time.time)
    deadline: float = 0.0  # loop time
    attempt: int = 0
    retries: int = 0
    fallbacks: int = 0
    reservation_id: str = ""
    # The budget lease this request is admitted on, and the cost of its attempts so far.
    hold: Hold | None = None
    cost_total: float = 0.0
    upstream_ms: float = 0.0
    deployment: deployment_pb2.Deployment | None = None
    model_group: str = ""
    # The router's admission of the current attempt (released by its outcome report).
    lease_id: str = ""
    lease_tokens: int = 0
    max_fallbacks: int | None = None
    # The plan's admission of its first deployment, until an attempt uses it.
    plan_lease: router_pb2.Lease | None = None
    # Prompt size estimate, used when a stream ends without the provider's usage.
    input_tokens: int = 0
    # The key's rate-limit admission (released when the request ends) and tokens used so far.
    key_ticket: Ticket | None = None
    tokens_used: int = 0

    def remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    def headers(self) -> dict[str, str]:
        h = {
            "x-litellm-call-id": self.call_id,
            "x-litellm-attempted-retries": str(self.retries),
            "x-litellm-attempted-fallbacks": str(self.fallbacks),
        }
        if self.max_fallbacks is not None:
            h["x-litellm-max-fallbacks"] = str(self.max_fallbacks)
        if self.model_group:
            h["x-litellm-model-group"] = self.model_group
        if self.deployment is not None:
            h["x-litellm-model-id"] = self.deployment.id
        return h

    def overhead_ms(self) -> float:
        return max(0.0, (time.perf_counter() - self.started) * 1000 - self.upstream_ms)


@dataclass
class Attempt:
    """What invoking one deployment produced."""

    result: Any = None
    error: error_pb2.Error | None = None
    stats: provider_pb2.CallStats | None = None
    usage: chat_pb2.Usage | None = None


Invoke = Callable[[deployment_pb2.Deployment, float], Awaitable[Attempt]]


@dataclass
class Completed:
    call: Call
    result: Any
    stats: provider_pb2.CallStats


@dataclass
class Streaming:
    """A stream whose first chunk has arrived (so the response can start); ``chunks`` yields the
    rest and settles the call at the end."""

    call: Call
    first: chat_pb2.ChatCompletionChunk
    chunks: AsyncIterator[provider_pb2.ChatStreamResponse]
    rate_limit_headers: dict[str, str]


class Gateway:
    def __init__(
        self,
        settings: Settings,
        peers: Peers,
        principals: Principals,
        usage: UsagePublisher,
        outcomes: OutcomeReporter,
        background: BackgroundTasks,
        plans: PlanCache,
        routing: RoutingWatch,
        leases: BudgetLeases,
        key_limits: KeyLimiter,
    ) -> None:
        self.settings = settings
        self.peers = peers
        self.principals = principals
        self._usage = usage
        self._outcomes = outcomes
        self._bg = background
        self._plans = plans
        self._routing = routing
        self._leases = leases
        self._key_limits = key_limits

    # --- authentication -----------------------------------------------------------------
    async def authenticate(self, credential: str) -> auth_pb2.Principal:
        if not credential:
            raise GatewayError.of(
                K.ERROR_KIND_AUTHENTICATION, "No api key passed in. Send it as 'Authorization: Bearer sk-...'."
            )
        return await self.principals.authenticate(credential)

    # --- steps --------------------------------------------------------------------------
    def _new_call(
        self,
        principal: auth_pb2.Principal,
        call_type: router_pb2.CallType,
        model: str,
        stream: bool,
        options: chat_pb2.RequestOptions,
        end_user: str,
    ) -> Call:
        call = Call(
            principal=principal,
            call_id=str(uuid.uuid4()),
            call_type=call_type,
            model=model,
            stream=stream,
            options=options,
            end_user=end_user,
        )
        timeout = (
            options.timeout_seconds if options.HasField("timeout_seconds") else self.settings.request_timeout_seconds
        )
        call.deadline = asyncio.get_running_loop().time() + timeout
        return call

    async def _plan(self, call: Call, input_tokens: int) -> router_pb2.PlanResponse:
        o = call.options
        req = router_pb2.PlanRequest(
            model=call.model,
            call_type=call.call_type,
            stream=call.stream,
            tags=o.tags,
            estimated_input_tokens=input_tokens,
            client_fallbacks=o.fallbacks,
            disable_fallbacks=o.disable_fallbacks,
            allowed_models=call.principal.models,
            mock_testing_fallbacks=o.mock_testing_fallbacks,
            timeout_seconds=max(0.0, call.remaining()),
        )
        call.input_tokens = input_tokens
        if o.HasField("num_retries"):
            if o.num_retries > self.settings.max_num_retries:
                # Each attempt is a provider call and a usage event: a client may not ask for an
                # unbounded number of them.
                raise GatewayError.of(
                    K.ERROR_KIND_BAD_REQUEST,
                    f"'num_retries' must be at most {self.settings.max_num_retries}",
                    param="num_retries",
                )
            req.num_retries = o.num_retries
        cacheable = self._routing.live
        key = cache_key(req) if cacheable else b""
        plan = self._plans.get(key) if cacheable else None
        if plan is None:
            timeout = min(self.settings.router_timeout_seconds, call.remaining())
            try:
                plan = await self.peers.router.Plan(req, timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                raise peer_failure(
                    "router", exc, request_deadline=timeout < self.settings.router_timeout_seconds
                ) from None
            if cacheable and plan.cache_ttl_ms:
                self._plans.put(key, plan)
            PLANS.labels("router").inc()
        else:
            PLANS.labels("cache").inc()
        if plan.HasField("error"):
            raise GatewayError(plan.error, call.headers())
        call.model_group = plan.model_group
        call.max_fallbacks = plan.max_fallbacks
        if plan.lease.lease_id:
            call.plan_lease = plan.lease
        return plan

    async def _reserve(self, call: Call, amount: float) -> None:
        try:
            call.hold = await self._leases.admit(call.principal, amount, call.remaining())
        except GatewayError as exc:
            self._drop_plan_lease(call)
            exc.headers.update(call.headers())
            raise
        call.reservation_id = call.hold.lease.lease_id

    def _release(self, call: Call) -> None:
        """Close a request that ends without a final attempt: its plan admission and its budget
        hold go back."""
        self._drop_plan_lease(call)
        if call.hold is not None:
            self._leases.finish(call.hold, call.cost_total)
        self._key_limits.release(call.key_ticket, call.tokens_used)

    def guardrails_for(self, call: Call) -> list[str]:
        names = list(call.principal.guardrails) + list(call.options.guardrails)
        return list(dict.fromkeys(names))

    async def _guardrail(self, call: Call, rpc: Callable[..., Awaitable[T]], req: Any) -> T:
        """One call to the guardrail service within the request's deadline: unknown guardrails
        are the client's 400, the request's own timeout running out is its 408, anything else a
        503."""
        timeout = min(self.settings.guardrail_timeout_seconds, max(call.remaining(), 0.1))
        try:
            return await rpc(req, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise GatewayError.of(
                    K.ERROR_KIND_BAD_REQUEST, exc.details() or "invalid guardrails", param="guardrails"
                ) from None
            raise peer_failure(
                "guardrail", exc, request_deadline=timeout < self.settings.guardrail_timeout_seconds
            ) from None

    async def _check_input(self, call: Call, request: chat_pb2.ChatCompletionRequest) -> None:
        names = self.guardrails_for(call)
        if not names:
            return
        req = guardrail_pb2.CheckInputRequest(
            account_id=call.principal.account_id, request_id=call.call_id, guardrails=names, messages=request.messages
        )
        resp = await self._guardrail(call, self.peers.guardrail.CheckInput, req)
        if resp.decision == guardrail_pb2.DECISION_BLOCK:
            raise GatewayError.of(K.ERROR_KIND_GUARDRAIL_BLOCKED, resp.reason or "Request blocked by guardrail")
        if resp.decision == guardrail_pb2.DECISION_MASK:
            del request.messages[:]
            request.messages.extend(resp.messages)

    async def _check_texts(
        self, call: Call, names: list[str], req: guardrail_pb2.CheckTextsRequest
    ) -> guardrail_pb2.CheckTextsResponse | None:
        """Check texts other than chat messages (embeddings inputs, an image prompt, a completion's
        texts and tool-call arguments): raises on a block, returns the masked texts or None."""
        req.account_id, req.request_id = call.principal.account_id, call.call_id
        req.guardrails.extend(names)
        resp = await self._guardrail(call, self.peers.guardrail.CheckTexts, req)
        if resp.decision == guardrail_pb2.DECISION_BLOCK:
            raise GatewayError(
                make_error(K.ERROR_KIND_GUARDRAIL_BLOCKED, resp.reason or "Blocked by guardrail"), call.headers()
            )
        return resp if resp.decision == guardrail_pb2.DECISION_MASK else None

    async def _check_output(self, call: Call, completion: chat_pb2.ChatCompletion) -> None:
        names = self.guardrails_for(call)
        if not names:
            return
        texts = [c.message for c in completion.choices if c.message.WhichOneof("content") == "text"]
        calls = [tc.function for c in completion.choices for tc in c.message.tool_calls]
        if not texts and not calls:
            return
        req = guardrail_pb2.CheckTextsRequest(
            direction=guardrail_pb2.DIRECTION_OUTPUT,
            texts=[m.text for m in texts],
            json_texts=[f.arguments for f in calls],
        )
        resp = await self._check_texts(call, names, req)
        if resp is not None:
            for m, text in zip(texts, resp.texts, strict=True):
                m.text = text
            for f, args in zip(calls, resp.json_texts, strict=True):
                f.arguments = args

    # --- attempts -----------------------------------------------------------------------
    def _record(
        self,
        call: Call,
        dep: deployment_pb2.Deployment | None,
        attempt: Attempt,
        *,
        final: bool,
        started: float,
        ttft_ms: float = 0.0,
        report: bool = True,
    ) -> None:
        stats = attempt.stats
        usage = attempt.usage
        if usage is None and attempt.result is not None and hasattr(attempt.result, "usage"):
            usage = attempt.result.usage
        if stats is not None:
            call.upstream_ms += stats.upstream_ms
            if stats.cost_usd:
                call.cost_total += float(stats.cost_usd)
        if usage is not None:
            call.tokens_used += usage.total_tokens
        self._usage.publish(
            principal=call.principal,
            request_id=call.call_id,
            attempt=call.attempt,
            call_type=CALL_TYPES.get(call.call_type, "chat.completions"),
            deployment=dep,
            model=call.model,
            stream=call.stream,
            error=attempt.error,
            usage=usage,
            cost_usd=stats.cost_usd if stats else "",
            # Under a lease every attempt's cost settles against it; a request's own reservation
            # is closed by its final attempt.
            reservation_id=call.reservation_id if (final or call.hold is not None) else "",
            start=started,
            end=time.time(),
            ttft_ms=ttft_ms or (stats.ttft_ms if stats else 0.0),
            final=final and call.hold is None,
            options=call.options,
            end_user=call.end_user,
        )
        lease_id, lease_tokens = call.lease_id, call.lease_tokens
        call.lease_id, call.lease_tokens = "", 0
        blame = attempt.error is not None and counts_against_deployment(attempt.error)
        if blame:
            # A failing deployment may be cooling down from now on: plan afresh until the
            # router says what it decided.
            self._plans.clear()
        if dep is not None:
            # An attempt whose failure is not the deployment's (our own adapter down, the
            # request's own deadline, a request that could not be sent, or failed on purpose by
            # mock_testing_fallbacks) says nothing about the deployment: it only gives its
            # admission back.
            skipped = not report or (attempt.error is not None and not blame)
            if not skipped or lease_id:
                self._outcomes.report(
                    dep,
                    success=attempt.error is None,
                    error=attempt.error,
                    latency_ms=stats.upstream_ms if stats else 0.0,
                    ttft_ms=stats.ttft_ms if stats else 0.0,
                    total_tokens=usage.total_tokens if usage else 0,
                    stream=call.stream,
                    lease_id=lease_id,
                    reserved_tokens=lease_tokens,
                    skipped=skipped,
                )
        call.attempt += 1
        if final:
            if call.hold is not None:
                self._leases.finish(call.hold, call.cost_total)
            self._key_limits.release(call.key_ticket, call.tokens_used)

    def _groups(
        self, plan: router_pb2.PlanResponse, last: error_pb2.Error | None, tried: set[int]
    ) -> router_pb2.CandidateGroup | None:
        """The next group to try after ``last`` failed the previous one: the fallback groups
        for that kind of error (context window, content policy) first, then the generic ones."""
        if last is None:
            return plan.groups[0] if plan.groups else None
        if last.kind not in FALLBACK_ON:
            return None
        wanted = {
            K.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED: router_pb2.GROUP_ROLE_CONTEXT_WINDOW_FALLBACK,
            K.ERROR_KIND_CONTENT_POLICY_VIOLATION: router_pb2.GROUP_ROLE_CONTENT_POLICY_FALLBACK,
        }.get(last.kind)
        candidates = [
            (i, g) for i, g in enumerate(plan.groups) if i not in tried and g.role != router_pb2.GROUP_ROLE_PRIMARY
        ]
        specific = [c for c in candidates if wanted is not None and c[1].role == wanted]
        generic = [c for c in candidates if c[1].role == router_pb2.GROUP_ROLE_FALLBACK]
        options = specific or generic
        if not options:
            return None
        pick = options[0]
        tried.add(pick[0])
        return pick[1]

    def _retries_for(self, plan: router_pb2.PlanResponse, kind: int) -> int:
        """``retry_policy`` per error kind wins (it may retry kinds that are not retried by
        default, e.g. AuthenticationErrorRetries); otherwise ``num_retries`` for retryable kinds."""
        by_kind = plan.retry_policy.retries_by_kind
        if kind in by_kind:
            return by_kind[kind]
        return plan.retry_policy.num_retries if kind in RETRYABLE else 0

    async def _acquire(
        self, call: Call, group: router_pb2.CandidateGroup, dep: deployment_pb2.Deployment, remaining: float
    ) -> error_pb2.Error | None:
        """Ask the router to admit an attempt the plan did not admit up front (retries and
        fallbacks of limited deployments); an error when the deployment has no room."""
        req = router_pb2.AcquireRequest(
            deployment_id=dep.id,
            model_group=group.model_group,
            estimated_input_tokens=call.input_tokens,
            timeout_seconds=remaining,
        )
        try:
            resp = await self.peers.router.Acquire(req, timeout=min(self.settings.router_timeout_seconds, remaining))
        except grpc.aio.AioRpcError:
            # The plan was admitted; a router that stopped answering since must not fail the
            # retry that could save the request.
            log.debug("router Acquire failed; attempting without admission", exc_info=True)
            return None
        if resp.admitted:
            call.lease_id, call.lease_tokens = resp.lease.lease_id, resp.lease.reserved_tokens
            return None
        wait = resp.retry_after_seconds if resp.HasField("retry_after_seconds") else 1.0
        return make_error(
            K.ERROR_KIND_NO_DEPLOYMENTS,
            f"No deployments available for model group {group.model_group}, Try again in {max(1, round(wait))} "
            f"seconds ({resp.reason or 'at its limits'}).",
            retry_after=wait,
        )

    def _drop_plan_lease(self, call: Call) -> None:
        """Give back the plan's admission when the request ends before any attempt used it
        (budget refusal, input guardrail, deadline)."""
        if call.plan_lease is not None:
            lease, call.plan_lease = call.plan_lease, None
            self._release_lease(call, lease)

    def _release_lease(self, call: Call, lease: router_pb2.Lease) -> None:
        dep = deployment_pb2.Deployment(id=lease.deployment_id, model_group=call.model_group)
        self._outcomes.report(
            dep,
            success=False,
            error=None,
            latency_ms=0.0,
            ttft_ms=0.0,
            total_tokens=0,
            stream=call.stream,
            lease_id=lease.lease_id,
            reserved_tokens=lease.reserved_tokens,
            skipped=True,
        )

    async def _execute(
        self, call: Call, plan: router_pb2.PlanResponse, invoke: Invoke
    ) -> tuple[deployment_pb2.Deployment, Attempt]:
        """Try deployments per the plan until one answers. Per group: the first attempt, then
        up to the retry policy's count of retries, cycling through the group's deployments; then
        the fallback group for the error. Every attempt's outcome is recorded; the last error is
        raised when all fail. Streams come back here only before their first chunk, so nothing
        is ever retried after the client got a byte."""
        tried: set[int] = {0}
        group = self._groups(plan, None, tried)
        last: error_pb2.Error | None = None
        lease, call.plan_lease = call.plan_lease, None
        try:
            while group is not None:
                if group.role != router_pb2.GROUP_ROLE_PRIMARY:
                    if call.fallbacks >= plan.max_fallbacks:
                        break
                    call.fallbacks += 1
                    call.model_group = group.model_group
                deployments = list(group.deployments)
                if not deployments:
                    last = (
                        group.empty_reason
                        if group.HasField("empty_reason")
                        else make_error(
                            K.ERROR_KIND_NO_DEPLOYMENTS,
                            f"No deployments available for model group {group.model_group}.",
                            retry_after=1.0,
                        )
                    )
                mock = call.options.mock_testing_fallbacks and group.role == router_pb2.GROUP_ROLE_PRIMARY
                tries = 0
                pos = 0
                refused = 0
                while deployments:
                    dep = deployments[pos % len(deployments)]
                    remaining = call.remaining()
                    if remaining <= 0:
                        last = make_error(
                            K.ERROR_KIND_TIMEOUT,
                            f"Request timed out after {call.options.timeout_seconds or self.settings.request_timeout_seconds:g}s",
                        )
                        break
                    if not mock:
                        if lease is not None and lease.deployment_id == dep.id:
                            call.lease_id, call.lease_tokens = lease.lease_id, lease.reserved_tokens
                            lease = None
                        elif group.admission_required:
                            refusal = await self._acquire(call, group, dep, remaining)
                            if refusal is not None:
                                last = refusal
                                refused += 1
                                if refused >= len(deployments):
                                    break
                                pos += 1
                                continue
                    refused = 0
                    call.deployment = dep
                    started = time.time()
                    if mock:
                        attempt = Attempt(
                            error=make_error(
                                K.ERROR_KIND_INTERNAL_SERVER,
                                "mock_testing_fallbacks=True: this attempt fails on purpose",
                            )
                        )
                    else:
                        attempt = await invoke(dep, remaining)
                    if attempt.error is None:
                        return dep, attempt
                    last = attempt.error
                    if attempt.error.kind == K.ERROR_KIND_SERVICE_UNAVAILABLE and not attempt.error.provider:
                        # Our own provider-adapter is unreachable: other deployments go through it too.
                        self._record(call, dep, attempt, final=True, started=started)
                        raise GatewayError(attempt.error, call.headers())
                    self._record(call, dep, attempt, final=False, started=started, report=not mock)
                    if not (tries < self._retries_for(plan, attempt.error.kind) and call.remaining() > 0):
                        break
                    tries += 1
                    call.retries += 1
                    pos += 1
                    same = deployments[pos % len(deployments)].id == dep.id
                    await self._backoff(call, plan, attempt.error, tries, same_deployment=same)
                if last is not None and last.kind == K.ERROR_KIND_TIMEOUT and call.remaining() <= 0:
                    break
                group = self._groups(plan, last, tried)
        finally:
            if lease is not None:
                # Admitted by the plan but never used (deadline, or an error before any attempt).
                self._release_lease(call, lease)
        # Every attempt failed: give the reservation back (partial costs were charged per attempt).
        self._release(call)
        assert last is not None
        raise GatewayError(last, call.headers())

    async def _backoff(
        self,
        call: Call,
        plan: router_pb2.PlanResponse,
        err: error_pb2.Error,
        tries: int,
        *,
        same_deployment: bool = True,
    ) -> None:
        """Wait before a retry. Moving to another deployment waits only the configured
        ``retry_after``; retrying the same one honours its ``retry-after`` and backs off
        exponentially on rate limits. Never past the request's deadline."""
        wait = plan.retry_policy.retry_after_seconds
        if same_deployment:
            if err.HasField("retry_after_seconds"):
                wait = max(wait, err.retry_after_seconds)
            elif err.kind == K.ERROR_KIND_RATE_LIMIT:
                wait = max(wait, min(0.25 * 2 ** (tries - 1), 8.0))
        wait = min(wait, max(0.0, call.remaining() - 0.05), 60.0)
        if wait > 0:
            await asyncio.sleep(wait)

    # --- chat ---------------------------------------------------------------------------
    async def _admit(
        self,
        call: Call,
        plan: router_pb2.PlanResponse,
        input_tokens: int,
        request: estimate.Request,
    ) -> None:
        if not call.principal.has_budget:
            return
        deps = [d for g in plan.groups for d in g.deployments]
        try:
            amount = estimate.worst_case_usd(input_tokens, deps, request, self.settings.default_max_output_tokens)
        except estimate.Unpriced as exc:
            self._drop_plan_lease(call)
            raise GatewayError(make_error(K.ERROR_KIND_PERMISSION_DENIED, str(exc)), call.headers()) from None
        await self._reserve(call, amount)

    async def _under_key_limits(self, call: Call, run: Callable[[], Awaitable[T]]) -> T:
        """Admit the request under its key's rate limits (429 when over one), then ``run`` it;
        the admission ends with the request's final attempt, or here if it fails before one."""
        if not has_limits(call.principal):
            return await run()  # the common case: no Redis call, nothing to release
        try:
            call.key_ticket = await self._key_limits.acquire(call.principal, call.input_tokens, call.remaining())
        except GatewayError as exc:
            exc.headers.update(call.headers())
            raise
        try:
            return await run()
        except BaseException:
            self._key_limits.release(call.key_ticket, call.tokens_used)
            raise

    async def chat(self, principal: auth_pb2.Principal, request: chat_pb2.ChatCompletionRequest) -> Completed:
        call = self._new_call(principal, router_pb2.CALL_TYPE_CHAT, request.model, False, request.options, request.user)
        call.input_tokens = estimate.prompt_tokens(request.messages, request.tools)
        return await self._under_key_limits(call, lambda: self._chat(call, request))

    async def _chat(self, call: Call, request: chat_pb2.ChatCompletionRequest) -> Completed:
        input_tokens = call.input_tokens
        plan = await self._plan(call, input_tokens)
        await self._admit(call, plan, input_tokens, request)
        try:
            await self._check_input(call, request)
        except GatewayError as exc:
            self._release(call)
            exc.headers.update(call.headers())
            raise

        # A budgeted request is never sent without the output limit its worst case assumed.
        unlimited = call.principal.has_budget and not estimate.sets_output_limit(request)

        async def invoke(dep: deployment_pb2.Deployment, remaining: float) -> Attempt:
            if unlimited:
                estimate.limit_output(request, dep, self.settings.default_max_output_tokens)
            try:
                resp = await self.peers.adapter.Chat(
                    provider_pb2.ChatRequest(deployment=dep, request=request, call_id=call.call_id),
                    timeout=remaining + 1.0,
                )
            except grpc.aio.AioRpcError as exc:
                return Attempt(error=_adapter_error(exc, remaining))
            if resp.WhichOneof("result") == "error":
                return Attempt(error=resp.error, stats=resp.stats)
            return Attempt(result=resp.completion, stats=resp.stats, usage=resp.completion.usage)

        started = time.time()
        dep, attempt = await self._execute(call, plan, invoke)
        try:
            await self._check_output(call, attempt.result)
        except GatewayError as exc:
            self._record(call, dep, attempt, final=True, started=started)
            exc.headers.update(call.headers())
            raise
        self._record(call, dep, attempt, final=True, started=started)
        assert attempt.stats is not None
        return Completed(call, attempt.result, attempt.stats)

    async def chat_stream(self, principal: auth_pb2.Principal, request: chat_pb2.ChatCompletionRequest) -> Streaming:
        """Start a stream: returns once the first chunk is in hand, so a failure before any byte
        reaches the client can still be retried or reported with its HTTP status."""
        call = self._new_call(principal, router_pb2.CALL_TYPE_CHAT, request.model, True, request.options, request.user)
        call.input_tokens = estimate.prompt_tokens(request.messages, request.tools)
        return await self._under_key_limits(call, lambda: self._chat_stream(call, request))

    async def _chat_stream(self, call: Call, request: chat_pb2.ChatCompletionRequest) -> Streaming:
        input_tokens = call.input_tokens
        plan = await self._plan(call, input_tokens)
        await self._admit(call, plan, input_tokens, request)
        try:
            await self._check_input(call, request)
        except GatewayError as exc:
            self._release(call)
            exc.headers.update(call.headers())
            raise

        unlimited = call.principal.has_budget and not estimate.sets_output_limit(request)

        async def invoke(dep: deployment_pb2.Deployment, remaining: float) -> Attempt:
            if unlimited:
                estimate.limit_output(request, dep, self.settings.default_max_output_tokens)
            stream = self.peers.adapter.ChatStream(
                provider_pb2.ChatStreamRequest(deployment=dep, request=request, call_id=call.call_id),
                timeout=remaining + 1.0,
            )
            try:
                async for msg in stream:
                    kind = msg.WhichOneof("event")
                    if kind == "chunk":
                        return Attempt(result=(stream, msg.chunk, dict(msg.stats.rate_limit_headers)))
                    if kind == "error":
                        return Attempt(
                            error=msg.error, stats=msg.stats, usage=msg.usage if msg.HasField("usage") else None
                        )
                    # An empty answer: the end arrived before any chunk.
                    return Attempt(
                        result=(stream, None, dict(msg.end.stats.rate_limit_headers)),
                        stats=msg.end.stats,
                        usage=msg.end.usage,
                    )
            except grpc.aio.AioRpcError as exc:
                return Attempt(error=_adapter_error(exc, remaining))
            return Attempt(error=make_error(K.ERROR_KIND_BAD_GATEWAY, "provider stream ended without an answer"))

        started = time.time()
        dep, attempt = await self._execute(call, plan, invoke)
        stream, first, rate_limit_headers = attempt.result
        if first is None:
            first = chat_pb2.ChatCompletionChunk(
                id=f"chatcmpl-{call.call_id}", created=int(time.time()), model=dep.model
            )
            first.choices.add(index=0, finish_reason="stop").delta.role = "assistant"
            self._record(call, dep, attempt, final=True, started=started)
            return Streaming(call, first, _empty(), rate_limit_headers)
        rest = self._rest(call, dep, stream, started)
        if names := self.guardrails_for(call):
            first, rest = stream_guard.guard(
                first,
                rest,
                lambda req, timeout: self.peers.guardrail.CheckStream(req, timeout=timeout),
                guardrail_pb2.CheckStreamRequest(
                    account_id=call.principal.account_id, request_id=call.call_id, guardrails=names
                ),
                window=self.settings.guardrail_stream_window_chars,
                timeout=lambda: min(self.settings.guardrail_timeout_seconds, max(call.remaining(), 0.1)),
            )
        return Streaming(call, first, rest, rate_limit_headers)

    async def _rest(
        self, call: Call, dep: deployment_pb2.Deployment, stream: Any, started: float
    ) -> AsyncGenerator[provider_pb2.ChatStreamResponse, None]:
        """The remaining stream messages; records the attempt however the stream ends."""
        recorded = False
        completion_chars = 0
        try:
            async for msg in stream:
                kind = msg.WhichOneof("event")
                if kind == "chunk":
                    completion_chars += produced_chars(msg.chunk)
                    yield msg
                elif kind == "end":
                    self._record(
                        call, dep, Attempt(stats=msg.end.stats, usage=msg.end.usage), final=True, started=started
                    )
                    recorded = True
                    yield msg
                    return
                else:
                    self._record(
                        call,
                        dep,
                        Attempt(error=msg.error, stats=msg.stats, usage=msg.usage if msg.HasField("usage") else None),
                        final=True,
                        started=started,
                    )
                    recorded = True
                    yield msg
                    return
            err = make_error(K.ERROR_KIND_BAD_GATEWAY, "provider stream ended unexpectedly")
            self._record(call, dep, Attempt(error=err), final=True, started=started)
            recorded = True
            yield provider_pb2.ChatStreamResponse(error=err)
        except grpc.aio.AioRpcError as exc:
            err = _adapter_error(exc, call.remaining())
            self._record(call, dep, Attempt(error=err), final=True, started=started)
            recorded = True
            yield provider_pb2.ChatStreamResponse(error=err)
        finally:
            if not recorded:
                # The client went away mid-stream: charge what was generated so far (estimated),
                # so disconnecting is never a way around a budget.
                stream.cancel()
                usage = chat_pb2.Usage(prompt_tokens=call.input_tokens, completion_tokens=completion_chars // 3 + 1)
                usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
                cost = (
                    usage.prompt_tokens * dep.pricing.admission_input_cost_per_token
                    + usage.completion_tokens * dep.pricing.admission_output_cost_per_token
                )
                self._record(
                    call,
                    dep,
                    Attempt(
                        error=make_error(K.ERROR_KIND_BAD_REQUEST, "client disconnected", status=499),
                        usage=usage,
                        stats=provider_pb2.CallStats(cost_usd=f"{cost:.10f}" if cost else ""),
                    ),
                    final=True,
                    started=started,
                )

    # --- embeddings and images ----------------------------------------------------------
    async def _unary(
        self,
        call: Call,
        input_tokens: int,
        send: Callable[[Any, float], Awaitable[Any]],
        result_field: str,
        request: images_pb2.ImageGenerationRequest | None = None,
    ) -> Completed:
        """Plan, admit and run a one-answer call (embeddings, images) through the adapter."""
        call.input_tokens = input_tokens
        return await self._under_key_limits(
            call, lambda: self._run_unary(call, input_tokens, send, result_field, request)
        )

    async def _run_unary(
        self,
        call: Call,
        input_tokens: int,
        send: Callable[[Any, float], Awaitable[Any]],
        result_field: str,
        request: images_pb2.ImageGenerationRequest | None,
    ) -> Completed:
        plan = await self._plan(call, input_tokens)
        await self._admit(call, plan, input_tokens, request)

        async def invoke(dep: deployment_pb2.Deployment, remaining: float) -> Attempt:
            try:
                resp = await send(dep, remaining)
            except grpc.aio.AioRpcError as exc:
                return Attempt(error=_adapter_error(exc, remaining))
            if resp.WhichOneof("result") == "error":
                return Attempt(error=resp.error, stats=resp.stats)
            result = getattr(resp, result_field)
            return Attempt(result=result, stats=resp.stats, usage=result.usage)

        started = time.time()
        dep, attempt = await self._execute(call, plan, invoke)
        self._record(call, dep, attempt, final=True, started=started)
        assert attempt.stats is not None
        return Completed(call, attempt.result, attempt.stats)

    async def embeddings(self, principal: auth_pb2.Principal, request: embeddings_pb2.EmbeddingRequest) -> Completed:
        call = self._new_call(
            principal, router_pb2.CALL_TYPE_EMBEDDING, request.model, False, request.options, request.user
        )
        if request.WhichOneof("input") == "texts":
            input_tokens = sum(len(t) for t in request.texts.values) // 3 + 1
            if names := self.guardrails_for(call):
                texts = guardrail_pb2.CheckTextsRequest(
                    direction=guardrail_pb2.DIRECTION_INPUT, texts=request.texts.values
                )
                if masked := await self._check_texts(call, names, texts):
                    request.texts.values[:] = masked.texts
        else:
            input_tokens = sum(len(t.values) for t in request.tokens.values)

        def send(dep: deployment_pb2.Deployment, remaining: float) -> Awaitable[Any]:
            req = provider_pb2.EmbedRequest(deployment=dep, request=request, call_id=call.call_id)
            return self.peers.adapter.Embed(req, timeout=remaining + 1.0)

        return await self._unary(call, input_tokens, send, "embeddings")

    async def images(self, principal: auth_pb2.Principal, request: images_pb2.ImageGenerationRequest) -> Completed:
        call = self._new_call(
            principal, router_pb2.CALL_TYPE_IMAGE_GENERATION, request.model, False, request.options, request.user
        )
        if names := self.guardrails_for(call):
            prompt = guardrail_pb2.CheckTextsRequest(direction=guardrail_pb2.DIRECTION_INPUT, texts=[request.prompt])
            if masked := await self._check_texts(call, names, prompt):
                request.prompt = masked.texts[0]

        def send(dep: deployment_pb2.Deployment, remaining: float) -> Awaitable[Any]:
            req = provider_pb2.GenerateImageRequest(deployment=dep, request=request, call_id=call.call_id)
            return self.peers.adapter.GenerateImage(req, timeout=remaining + 1.0)

        return await self._unary(call, len(request.prompt) // 3 + 1, send, "images", request)

    async def list_models(self, principal: auth_pb2.Principal) -> Sequence[Any]:
        try:
            resp = await self.peers.router.ListModels(
                router_pb2.ListModelsRequest(allowed_models=principal.models),
                timeout=self.settings.router_timeout_seconds,
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_failure("router", exc) from None
        return list(resp.models)


def produced_chars(chunk: chat_pb2.ChatCompletionChunk) -> int:
    """Characters of model output in a streamed chunk: text, reasoning, refusals and tool calls
    (names and arguments), all of which the provider bills as output tokens."""
    n = 0
    for ch in chunk.choices:
        d = ch.delta
        n += len(d.content) + len(d.reasoning_content) + len(d.refusal)
        for tc in d.tool_calls:
            n += len(tc.name) + len(tc.arguments)
    return n


async def _empty() -> AsyncIterator[provider_pb2.ChatStreamResponse]:
    return
    yield  # pragma: no cover - makes this an async generator


def _adapter_error(exc: grpc.aio.AioRpcError, remaining: float) -> error_pb2.Error:
    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED and remaining > 0:
        # The request's own deadline ran out (the adapter applies the deployment's timeout
        # itself and answers before this one).
        return make_error(
            K.ERROR_KIND_TIMEOUT,
            f"Request timed out after {remaining:.1f}s",
            source=error_pb2.FAILURE_SOURCE_REQUEST,
        )
    return peer_failure("provider-adapter", exc).error
