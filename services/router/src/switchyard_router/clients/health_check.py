"""Health checks: a real minimal call (one token of chat, or one short embedding) to each
deployment through the provider adapter, which alone holds the credentials. In the background
every ``health_check_interval`` when ``general_settings.background_health_checks`` is on (one
replica per deployment and interval, claimed in Redis), and on demand for ``/health``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import grpc

from switchyard.llm.v1 import chat_pb2, embeddings_pb2
from switchyard.provider.v1 import provider_pb2, provider_pb2_grpc
from switchyard_common.tracing import traced_stub
from switchyard_router.clients.state import SharedState
from switchyard_router.domain.health import HealthResult
from switchyard_router.domain.registry import Candidate

if TYPE_CHECKING:
    from switchyard.provider.v1.provider_pb2_grpc import ProviderServiceAsyncStub

log = logging.getLogger(__name__)


def checkable(c: Candidate) -> bool:
    info = c.model.config.model_info
    return (
        "*" not in c.proto.model
        and c.proto.provider != "*"
        and not info.get("disable_background_health_check")
        and c.model.config.mode in ("chat", "completion", "embedding")
    )


class HealthChecker:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        state: SharedState,
        candidates: Callable[[], Sequence[Candidate]],
        *,
        timeout: float = 30.0,
        interval: float = 300.0,
        concurrency: int = 8,
    ) -> None:
        self._stub: ProviderServiceAsyncStub = traced_stub(provider_pb2_grpc.ProviderServiceStub(channel))
        self._state = state
        self._candidates = candidates
        self.timeout = timeout
        self.interval = interval
        self._sem = asyncio.Semaphore(concurrency)

    async def check(self, c: Candidate) -> HealthResult | None:
        """The deployment's health; None when the provider adapter itself could not be asked
        (that says nothing about the deployment)."""
        dep = c.proto
        started = time.perf_counter()
        timeout = float(c.model.config.model_info.get("health_check_timeout") or self.timeout)
        max_tokens = int(c.model.config.model_info.get("health_check_max_tokens") or 1)
        try:
            async with self._sem:
                if c.model.config.mode == "embedding":
                    req = embeddings_pb2.EmbeddingRequest(
                        model=dep.model, texts=embeddings_pb2.StringList(values=["health check"])
                    )
                    emb = await self._stub.Embed(
                        provider_pb2.EmbedRequest(deployment=dep, request=req, call_id="health-check"),
                        timeout=timeout,
                    )
                    error = emb.error if emb.WhichOneof("result") == "error" else None
                else:
                    chat = chat_pb2.ChatCompletionRequest(model=dep.model, max_tokens=max_tokens)
                    chat.messages.add(role="user", text="ping")
                    resp = await self._stub.Chat(
                        provider_pb2.ChatRequest(deployment=dep, request=chat, call_id="health-check"),
                        timeout=timeout,
                    )
                    error = resp.error if resp.WhichOneof("result") == "error" else None
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return HealthResult(False, f"no answer within {timeout:g}s", time.time(), timeout * 1000)
            log.info("health check inconclusive: provider adapter unreachable", extra={"code": exc.code().name})
            return None
        latency = (time.perf_counter() - started) * 1000
        if error is not None:
            return HealthResult(False, f"{error.http_status} {error.message}"[:500], time.time(), latency)
        return HealthResult(True, "", time.time(), latency)

    async def check_now(self, cands: Sequence[Candidate]) -> dict[str, HealthResult]:
        todo = [c for c in cands if checkable(c)]
        results = await asyncio.gather(*(self.check(c) for c in todo))
        out = {}
        for c, r in zip(todo, results, strict=True):
            if r is None:
                # Shown, not kept: routing must not avoid a deployment for our own outage.
                out[c.id] = HealthResult(False, "provider adapter unreachable; not checked", time.time())
                continue
            await self._state.put_health(c.id, r)
            out[c.id] = r
        return out

    async def _one(self, c: Candidate) -> bool:
        """Check one deployment unless another replica does; False when inconclusive."""
        if not await self._state.claim_health_check(c.id, self.interval * 0.9):
            return True
        result = await self.check(c)
        if result is None:
            await self._state.release_health_check(c.id)
            return False
        if not result.healthy:
            log.warning(
                "deployment failed its health check",
                extra={"deployment": c.id, "model_group": c.proto.model_group, "error": result.error},
            )
        await self._state.put_health(c.id, result)
        return True

    async def run(self, retry_seconds: float = 5.0) -> None:
        """Background checks until cancelled; a round the adapter could not answer is retried
        after ``retry_seconds`` instead of a whole interval."""
        while True:
            cands = [c for c in self._candidates() if checkable(c)]
            conclusive = True
            try:
                conclusive = all(await asyncio.gather(*(self._one(c) for c in cands)))
            except Exception:
                log.exception("health check round failed")
            await asyncio.sleep(self.interval if conclusive else min(retry_seconds, self.interval))
