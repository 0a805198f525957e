"""The attempts loop: tries deployments per the router's plan until one answers. Per group: the
first attempt, then up to the retry policy's count of retries, cycling through the group's
deployments; then the fallback group for the error (decisions in ``domain/retry.py``). Every
failed attempt is recorded here; the answering one is recorded by its caller once the answer is
complete. Streams come back here only before their first chunk, so nothing is ever retried after
the client got a byte."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from switchyard.llm.v1 import deployment_pb2, error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2
from switchyard_edge.clients.router import RouterClient
from switchyard_edge.domain import retry
from switchyard_edge.domain.call import Attempt
from switchyard_edge.errors import GatewayError
from switchyard_edge.pipeline.accounting import Accounting
from switchyard_edge.pipeline.admission import Admission
from switchyard_llm.errors import make_error

Invoke = Callable[[deployment_pb2.Deployment, float], Awaitable[Attempt]]


class Attempts:
    def __init__(self, router: RouterClient, accounting: Accounting, *, default_timeout: float) -> None:
        self._router = router
        self._accounting = accounting
        self._default_timeout = default_timeout

    async def run(
        self, adm: Admission, plan: router_pb2.PlanResponse, invoke: Invoke
    ) -> tuple[deployment_pb2.Deployment, Attempt]:
        """The deployment that answered and its attempt; raises the last error when all fail."""
        call = adm.call
        tried: set[int] = {0}
        index = retry.next_group(plan.groups, None, tried)
        last: error_pb2.Error | None = None
        try:
            while index is not None:
                group = plan.groups[index]
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
                            ErrorKind.ERROR_KIND_NO_DEPLOYMENTS,
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
                            ErrorKind.ERROR_KIND_TIMEOUT,
                            f"Request timed out after {call.options.timeout_seconds or self._default_timeout:g}s",
                        )
                        break
                    if not mock and not adm.use_plan_lease(dep.id) and group.admission_required:
                        refusal = await self._acquire(adm, group, dep, remaining)
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
                                ErrorKind.ERROR_KIND_INTERNAL_SERVER,
                                "mock_testing_fallbacks=True: this attempt fails on purpose",
                            )
                        )
                    else:
                        attempt = await invoke(dep, remaining)
                    if attempt.error is None:
                        return dep, attempt
                    last = attempt.error
                    if retry.adapter_unreachable(attempt.error):
                        self._accounting.record(adm, dep, attempt, final=True, started=started)
                        raise GatewayError(attempt.error)
                    self._accounting.record(adm, dep, attempt, final=False, started=started, report=not mock)
                    if not (tries < retry.retries_for(plan.retry_policy, attempt.error.kind) and call.remaining() > 0):
                        break
                    tries += 1
                    call.retries += 1
                    pos += 1
                    same = deployments[pos % len(deployments)].id == dep.id
                    wait = retry.backoff(
                        plan.retry_policy, attempt.error, tries, same_deployment=same, remaining=call.remaining()
                    )
                    if wait > 0:
                        await asyncio.sleep(wait)
                if last is not None and last.kind == ErrorKind.ERROR_KIND_TIMEOUT and call.remaining() <= 0:
                    break
                index = retry.next_group(plan.groups, last, tried)
                if index is not None:
                    tried.add(index)
        finally:
            # Admitted by the plan but never used (deadline, or an error before any attempt).
            adm.release_plan_lease()
        # Every attempt failed (their costs were recorded as they went).
        assert last is not None
        raise GatewayError(last)

    async def _acquire(
        self, adm: Admission, group: router_pb2.CandidateGroup, dep: deployment_pb2.Deployment, remaining: float
    ) -> error_pb2.Error | None:
        """Admit an attempt the plan did not admit up front; an error when the deployment has
        no room."""
        resp = await self._router.acquire(adm.call, group, dep, remaining)
        if resp is None:
            return None
        if resp.admitted:
            if resp.lease.lease_id:
                adm.lease = resp.lease
            return None
        wait = resp.retry_after_seconds if resp.HasField("retry_after_seconds") else 1.0
        return make_error(
            ErrorKind.ERROR_KIND_NO_DEPLOYMENTS,
            f"No deployments available for model group {group.model_group}, Try again in {max(1, round(wait))} "
            f"seconds ({resp.reason or 'at its limits'}).",
            retry_after=wait,
        )
