"""Calls to the provider adapter multiplexed over a few long-lived ``Session`` streams.

A message on an open gRPC stream costs a fraction of a new call, so every request travels as a
message with an id; the answers come back tagged with it. The pool offers the same methods as the
generated stub (``Chat``, ``ChatStream``, ``Embed``, ``GenerateImage``) and fails the same way
(``grpc.aio.AioRpcError``: UNAVAILABLE when a session breaks, DEADLINE_EXCEEDED on timeout), so
callers do not know the difference. Sessions are replaced after a while so that calls spread
over adapter replicas as they come and go."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from switchyard.provider.v1 import provider_pb2
from switchyard_common.tracing import outgoing_metadata

log = logging.getLogger(__name__)

_END = object()


def _error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class _Session:
    def __init__(self, stub: Any, pool: AdapterSessions) -> None:
        self._call = stub.Session()
        self._pool = pool
        self._write_lock = asyncio.Lock()
        self.pending: dict[int, asyncio.Future[Any] | asyncio.Queue[Any]] = {}
        self.opened = time.monotonic()
        self.draining = False
        self.broken = False
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="adapter-session")

    @property
    def usable(self) -> bool:
        return not self.broken and not self.draining

    async def send(self, msg: provider_pb2.SessionRequest) -> None:
        async with self._write_lock:
            await self._call.write(msg)

    def cancel(self, call_id: int) -> None:
        if self.pending.pop(call_id, None) is not None and not self.broken:
            asyncio.get_running_loop().create_task(self._send_cancel(call_id))

    async def _send_cancel(self, call_id: int) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError):
            await self.send(provider_pb2.SessionRequest(id=call_id, cancel=True))
        self.maybe_close()

    def maybe_close(self) -> None:
        if self.draining and not self.pending and not self.broken:
            self.broken = True  # no more writes
            asyncio.get_running_loop().create_task(self._close())

    async def _close(self) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError, grpc.aio.UsageError):
            await self._call.done_writing()

    async def _read(self) -> None:
        failure = _error(grpc.StatusCode.UNAVAILABLE, "provider-adapter session ended")
        try:
            async for resp in self._call:
                waiter = self.pending.get(resp.id)
                if waiter is None:
                    continue  # cancelled by its caller
                kind = resp.WhichOneof("body")
                if kind == "failure":
                    self.pending.pop(resp.id, None)
                    _deliver(waiter, _error(grpc.StatusCode.INTERNAL, f"provider-adapter failed: {resp.failure}"))
                elif kind == "stream_event":
                    assert isinstance(waiter, asyncio.Queue)
                    waiter.put_nowait(resp.stream_event)
                    if resp.stream_event.WhichOneof("event") in ("end", "error"):
                        self.pending.pop(resp.id, None)
                        waiter.put_nowait(_END)
                        self.maybe_close()
                else:
                    self.pending.pop(resp.id, None)
                    _deliver(waiter, getattr(resp, kind))
                    self.maybe_close()
        except grpc.aio.AioRpcError as exc:
            failure = _error(
                exc.code() if exc.code() != grpc.StatusCode.CANCELLED else grpc.StatusCode.UNAVAILABLE,
                f"provider-adapter session broke: {exc.details()}",
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("adapter session reader failed")
            failure = _error(grpc.StatusCode.UNAVAILABLE, f"provider-adapter session failed: {exc}")
        finally:
            self.broken = True
            for waiter in self.pending.values():
                _deliver(waiter, failure)
            self.pending.clear()
            self._pool.forget(self)

    async def stop(self) -> None:
        self.broken = True
        self._call.cancel()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _deliver(waiter: asyncio.Future[Any] | asyncio.Queue[Any], value: Any) -> None:
    if isinstance(waiter, asyncio.Queue):
        waiter.put_nowait(value)
        if isinstance(value, grpc.aio.AioRpcError):
            waiter.put_nowait(_END)
    elif not waiter.done():
        if isinstance(value, BaseException):
            waiter.set_exception(value)
        else:
            waiter.set_result(value)


class SessionStream:
    """A streamed chat call: iterate for its ChatStreamResponse messages; ``cancel()`` stops it."""

    def __init__(self, pool: AdapterSessions, request: provider_pb2.ChatStreamRequest, timeout: float) -> None:
        self._pool = pool
        self._request = request
        self._deadline = time.monotonic() + timeout
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._session: _Session | None = None
        self._id = 0
        self._started = False
        self._finished = False

    def cancel(self) -> None:
        if self._session is not None and not self._finished:
            self._finished = True
            self._session.cancel(self._id)

    def __aiter__(self) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        if not self._started:
            self._started = True
            self._session, self._id = await self._pool.submit(
                lambda cid: provider_pb2.SessionRequest(id=cid, chat_stream=self._request), self._queue
            )
        while True:
            left = self._deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(left, 0.001)):
                    item = await self._queue.get()
            except TimeoutError:
                self.cancel()
                raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "provider-adapter call timed out") from None
            if item is _END:
                self._finished = True
                return
            if isinstance(item, grpc.aio.AioRpcError):
                self._finished = True
                raise item
            yield item


class AdapterSessions:
    def __init__(self, stub: Any, *, size: int = 4, max_age: float = 60.0) -> None:
        self._stub = stub
        self._size = size
        self._max_age = max_age
        self._sessions: list[_Session] = []
        self._ids = itertools.count(1)
        self._rr = itertools.count()

    def forget(self, session: _Session) -> None:
        if session in self._sessions:
            self._sessions.remove(session)

    def _pick(self) -> _Session:
        now = time.monotonic()
        for s in self._sessions:
            if s.usable and now - s.opened > self._max_age:
                s.draining = True
                s.maybe_close()
        live = [s for s in self._sessions if s.usable]
        if len(live) < self._size:
            s = _Session(self._stub, self)
            self._sessions.append(s)
            return s
        return live[next(self._rr) % len(live)]

    async def submit(self, build: Any, waiter: asyncio.Future[Any] | asyncio.Queue[Any]) -> tuple[_Session, int]:
        session = self._pick()
        call_id = next(self._ids)
        msg = build(call_id)
        msg.trace_context.update(dict(outgoing_metadata()))
        session.pending[call_id] = waiter
        try:
            await session.send(msg)
        except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError) as exc:
            session.pending.pop(call_id, None)
            session.broken = True
            self.forget(session)
            raise _error(grpc.StatusCode.UNAVAILABLE, f"provider-adapter unreachable: {exc}") from None
        return session, call_id

    async def _unary(self, build: Any, timeout: float) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        session, call_id = await self.submit(build, fut)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(fut)
        except TimeoutError:
            session.cancel(call_id)
            raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "provider-adapter call timed out") from None
        except asyncio.CancelledError:
            session.cancel(call_id)
            raise

    # The generated stub's method names, so the pool drops in for it.
    async def Chat(self, request: provider_pb2.ChatRequest, *, timeout: float) -> provider_pb2.ChatResponse:
        return await self._unary(lambda cid: provider_pb2.SessionRequest(id=cid, chat=request), timeout)

    def ChatStream(self, request: provider_pb2.ChatStreamRequest, *, timeout: float) -> SessionStream:
        return SessionStream(self, request, timeout)

    async def Embed(self, request: provider_pb2.EmbedRequest, *, timeout: float) -> provider_pb2.EmbedResponse:
        return await self._unary(lambda cid: provider_pb2.SessionRequest(id=cid, embed=request), timeout)

    async def GenerateImage(
        self, request: provider_pb2.GenerateImageRequest, *, timeout: float
    ) -> provider_pb2.GenerateImageResponse:
        return await self._unary(lambda cid: provider_pb2.SessionRequest(id=cid, image=request), timeout)

    async def CountTokens(
        self, request: provider_pb2.CountTokensRequest, *, timeout: float
    ) -> provider_pb2.CountTokensResponse:
        return await self._unary(lambda cid: provider_pb2.SessionRequest(id=cid, count_tokens=request), timeout)

    async def close(self) -> None:
        for s in list(self._sessions):
            await s.stop()
        self._sessions.clear()
