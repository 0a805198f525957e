"""The edge's session pool against a real grpc.aio server implementing the adapter's Session RPC
(a stand-in that answers on command): multiplexing, streams, timeouts with cancellation, and a
broken session failing its calls as UNAVAILABLE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from switchyard.llm.v1 import chat_pb2
from switchyard.provider.v1 import provider_pb2, provider_pb2_grpc
from switchyard_common.grpc_server import GrpcService
from switchyard_edge.clients.adapter_sessions import AdapterSessions


class StandIn(provider_pb2_grpc.ProviderServiceServicer):
    """Chat echoes the call id after a delay taken from the request's model name ("wait-<ms>");
    ChatStream sends three chunks then the end."""

    def __init__(self) -> None:
        self.cancelled: list[int] = []
        self.sessions = 0

    async def Session(
        self,
        request_iterator: AsyncIterator[provider_pb2.SessionRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[provider_pb2.SessionResponse]:
        self.sessions += 1
        out: asyncio.Queue[provider_pb2.SessionResponse] = asyncio.Queue()
        tasks: dict[int, asyncio.Task[None]] = {}

        async def run(req: provider_pb2.SessionRequest) -> None:
            if req.WhichOneof("body") == "chat":
                model = req.chat.request.model
                if model.startswith("wait-"):
                    await asyncio.sleep(int(model[5:]) / 1000)
                resp = provider_pb2.ChatResponse()
                resp.completion.id = req.chat.call_id
                await out.put(provider_pb2.SessionResponse(id=req.id, chat=resp))
            else:
                for i in range(3):
                    ev = provider_pb2.ChatStreamResponse()
                    ev.chunk.id = f"{req.chat_stream.call_id}-{i}"
                    await out.put(provider_pb2.SessionResponse(id=req.id, stream_event=ev))
                end = provider_pb2.ChatStreamResponse()
                end.end.usage.total_tokens = 3
                await out.put(provider_pb2.SessionResponse(id=req.id, stream_event=end))

        async def read() -> None:
            async for req in request_iterator:
                if req.WhichOneof("body") == "cancel":
                    self.cancelled.append(req.id)
                    t = tasks.pop(req.id, None)
                    if t:
                        t.cancel()
                else:
                    tasks[req.id] = asyncio.get_running_loop().create_task(run(req))

        reader = asyncio.get_running_loop().create_task(read())
        try:
            while True:
                yield await out.get()
        finally:
            reader.cancel()


@pytest.fixture
async def served() -> AsyncIterator[tuple[StandIn, GrpcService]]:
    impl = StandIn()
    service = GrpcService(
        host="127.0.0.1",
        port=0,
        service_names=[],
        grace_seconds=0.1,
        register=lambda s: provider_pb2_grpc.add_ProviderServiceServicer_to_server(impl, s),
    )
    await service.start()
    yield impl, service
    await service.stop()


def _chat(call_id: str, model: str = "m") -> provider_pb2.ChatRequest:
    return provider_pb2.ChatRequest(call_id=call_id, request=chat_pb2.ChatCompletionRequest(model=model))


async def test_concurrent_calls_share_few_sessions(served: tuple[StandIn, GrpcService]) -> None:
    impl, service = served
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}") as ch:
        pool = AdapterSessions(provider_pb2_grpc.ProviderServiceStub(ch), size=2)
        answers = await asyncio.gather(*[pool.Chat(_chat(f"c{i}", "wait-20"), timeout=5) for i in range(50)])
        assert [a.completion.id for a in answers] == [f"c{i}" for i in range(50)]
        assert impl.sessions == 2
        stream = pool.ChatStream(provider_pb2.ChatStreamRequest(call_id="s"), timeout=5)
        events = [e async for e in stream]
        assert [e.chunk.id for e in events[:3]] == ["s-0", "s-1", "s-2"]
        assert events[-1].WhichOneof("event") == "end"
        await pool.close()


async def test_timeout_cancels_the_call_upstream(served: tuple[StandIn, GrpcService]) -> None:
    impl, service = served
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}") as ch:
        pool = AdapterSessions(provider_pb2_grpc.ProviderServiceStub(ch), size=1)
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await pool.Chat(_chat("slow", "wait-2000"), timeout=0.1)
        assert exc.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await asyncio.sleep(0.2)
        assert impl.cancelled, "the adapter was told to stop the call"
        assert (await pool.Chat(_chat("next"), timeout=5)).completion.id == "next", "the session still works"
        await pool.close()


async def test_a_broken_session_fails_its_calls_as_unavailable(served: tuple[StandIn, GrpcService]) -> None:
    _, service = served
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}") as ch:
        pool = AdapterSessions(provider_pb2_grpc.ProviderServiceStub(ch), size=1)
        pending = asyncio.ensure_future(pool.Chat(_chat("lost", "wait-5000"), timeout=10))
        await asyncio.sleep(0.2)
        await service.stop()
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await pending
        assert exc.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)
        with pytest.raises(grpc.aio.AioRpcError) as again:
            await pool.Chat(_chat("after"), timeout=2)
        assert again.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        await pool.close()


async def test_old_sessions_drain_and_new_ones_take_over(served: tuple[StandIn, GrpcService]) -> None:
    impl, service = served
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}") as ch:
        pool = AdapterSessions(provider_pb2_grpc.ProviderServiceStub(ch), size=1, max_age=0.05)
        for i in range(5):
            assert (await pool.Chat(_chat(f"r{i}"), timeout=5)).completion.id == f"r{i}"
            await asyncio.sleep(0.06)
        assert impl.sessions >= 4, "aged sessions were replaced"
        await pool.close()
