"""OpenAI's Responses API: ``POST /v1/responses`` (JSON or its event stream), and the stored
responses: ``GET``/``DELETE /v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items``
(each also without ``/v1``). A request runs the chat pipeline as a ``responses`` call; a
deployment that serves the Responses API (``model_info.supported_endpoints``) is sent the request
itself, any other its translation (``dialects/responses.py``).

Stored responses belong to the account: any key of it may read, continue or delete them (as any
key of an OpenAI project may). A response is stored before its answer is released (before the
body, or before a stream's last event), so the client can continue it at once on any replica."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_edge import openapi
from switchyard_edge.clients.responses_store import ResponseStore, StoreUnavailable
from switchyard_edge.dialects import responses
from switchyard_edge.dialects.responses import ResponsesRequest
from switchyard_edge.domain.call import CallType, Streaming
from switchyard_edge.errors import GatewayError
from switchyard_edge.handlers.httpio import (
    StreamResponse,
    completed_headers,
    credential_of,
    end_user_of,
    json_response,
    openai_error,
    read_json,
    server_span,
)
from switchyard_edge.handlers.openai_api import (
    OVERHEAD,
    REQUESTS,
    Handler,
    _bad_request,
)
from switchyard_llm.errors import RequestError, make_error

if TYPE_CHECKING:
    from switchyard_edge.app import Edge

log = logging.getLogger(__name__)
_ROUTE = "responses"
_MAX_PAGE = 100


def _unavailable() -> GatewayError:
    return GatewayError.of(
        ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE,
        "Stored responses are unavailable right now; try again shortly.",
        retry_after=1,
    )


def _not_found(rid: str) -> GatewayError:
    return GatewayError(
        make_error(ErrorKind.ERROR_KIND_NOT_FOUND, f"Response with id '{rid}' not found.", code="response_not_found")
    )


class ResponsesRoutes:
    def __init__(self, edge: Edge) -> None:
        self._edge = edge
        self._max_body = edge.settings.max_request_body_bytes
        self._max_messages = edge.settings.max_chat_messages
        self._max_chain = edge.settings.max_response_chain

    @property
    def _store(self) -> ResponseStore:
        # Looked up per request: the app (and its OpenAPI document) is built from settings alone.
        return self._edge.responses

    def register(self, app: FastAPI) -> dict[tuple[str, str], Handler]:
        """Add the routes to ``app``; returns the hot one (creating a response)."""
        create = openapi.model_route(
            openapi.RESPONSES_REQUEST, openapi.RESPONSE, streams=True, event=openapi.RESPONSE_EVENT
        )
        stored = {"responses": openapi.model_route({}, openapi.RESPONSE)["responses"]}
        deleted = {"responses": openapi.model_route({}, {"type": "object", "required": ["id", "deleted"]})["responses"]}
        listed = {"responses": openapi.model_route({}, {"type": "object", "required": ["data"]})["responses"]}
        hot: dict[tuple[str, str], Handler] = {}
        for prefix in ("/v1", ""):
            path = f"{prefix}/responses"
            for sub, handler, method, extra in (
                ("", self.create, "POST", create),
                ("/{response_id}", self.retrieve, "GET", stored),
                ("/{response_id}", self.delete, "DELETE", deleted),
                ("/{response_id}/input_items", self.input_items, "GET", listed),
            ):
                app.add_api_route(
                    path + sub, handler, methods=[method], include_in_schema=prefix == "/v1", openapi_extra=extra
                )
            hot[("POST", path)] = self.create
        return hot

    # --- creating a response ------------------------------------------------------------------
    async def create(self, request: Request) -> Response:
        gateway = self._edge.gateway
        with server_span(request, "POST /v1/responses") as span:
            try:
                who = await gateway.authenticate(credential_of(request), request.scope["path"])
                req = responses.parse_request(await read_json(request, self._max_body))
                span.set_attribute("gen_ai.request.model", req.model)
                context = await self._context(who, req)
                chat = responses.to_chat(req, context)
                if len(chat.messages) > self._max_messages:
                    raise RequestError(
                        f"the conversation holds {len(chat.messages)} messages; at most {self._max_messages} "
                        "are accepted",
                        "input",
                    )
                native = self._native(who, req, context, chat)
                if req.stream:
                    streaming = await gateway.chat_stream(
                        who, chat, CallType.RESPONSES, native=native, end_user=end_user_of(request)
                    )
                    REQUESTS.labels(_ROUTE, "200").inc()
                    return self._stream(who, req, streaming)
                done = await gateway.chat(who, chat, CallType.RESPONSES, native=native, end_user=end_user_of(request))
                rid = responses.response_id(done.call.call_id)
                completion: chat_pb2.ChatCompletion = done.result
                if completion.native_json:
                    obj = responses.from_native(req, completion.native_json, rid)
                else:
                    obj = responses.from_completion(req, completion, rid, int(time.time()))
            except GatewayError as exc:
                REQUESTS.labels(_ROUTE, str(exc.error.http_status)).inc()
                return openai_error(exc.error, exc.headers)
            except RequestError as exc:
                REQUESTS.labels(_ROUTE, "400").inc()
                return _bad_request(exc)
            await self._save(who, req, obj)
            OVERHEAD.labels(_ROUTE).observe(done.call.overhead_ms() / 1000)
            REQUESTS.labels(_ROUTE, "200").inc()
            return json_response(obj, headers=completed_headers(done))

    async def _context(self, who: auth_pb2.Principal, req: ResponsesRequest) -> list[dict[str, Any]]:
        """The items of the conversation ``previous_response_id`` continues (none without one)."""
        if req.previous_response_id is None:
            return []
        try:
            chain = await self._store.chain(who.account_id, req.previous_response_id, self._max_chain)
        except StoreUnavailable:
            raise _unavailable() from None
        if not chain:
            raise GatewayError(
                make_error(
                    ErrorKind.ERROR_KIND_BAD_REQUEST,
                    f"Previous response with id '{req.previous_response_id}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
            )
        return responses.conversation(chain)

    @staticmethod
    def _native(
        who: auth_pb2.Principal,
        req: ResponsesRequest,
        context: list[dict[str, Any]],
        chat: chat_pb2.ChatCompletionRequest,
    ) -> Any:
        """The request for deployments that serve the Responses API, built the first time one is
        tried. Not with guardrails: they check and mask the chat translation, and a native call
        would pass both ways unchecked."""
        if who.guardrails or req.options.guardrails:
            return None
        built: list[chat_pb2.ChatCompletionRequest] = []

        def pick(dep: deployment_pb2.Deployment) -> chat_pb2.ChatCompletionRequest | None:
            if not responses.serves_natively(dep.supported_endpoints):
                return None
            if not built:
                built.append(responses.native_request(req, context, chat))
            return built[0]

        return pick

    async def _save(self, who: auth_pb2.Principal, req: ResponsesRequest, obj: dict[str, Any]) -> None:
        """Store the response (``store``); a store that fails costs the client its continuation,
        never the answer it paid for."""
        if not req.store:
            return
        try:
            await self._store.save(
                who.account_id,
                obj["id"],
                key_hash=who.key_hash,
                previous_response_id=req.previous_response_id,
                input_items=req.input_items,
                response=obj,
            )
        except StoreUnavailable as exc:
            log.error("stored response not saved", extra={"response_id": obj["id"], "error": repr(exc.__cause__)})

    # --- streams ------------------------------------------------------------------------------
    def _stream(self, who: auth_pb2.Principal, req: ResponsesRequest, streaming: Streaming) -> Response:
        rid = responses.response_id(streaming.call.call_id)
        events = self._native_events if streaming.first_chunk.native_json else self._translated_events
        return StreamResponse(streaming, events(who, req, rid, streaming))

    async def _translated_events(
        self, who: auth_pb2.Principal, req: ResponsesRequest, rid: str, streaming: Streaming
    ) -> AsyncIterator[bytes]:
        events = responses.TranslatedEvents(req, rid, int(time.time()), streaming.first_chunk.model)
        yield b"".join(events.start() + events.chunk(streaming.first_chunk))
        async for msg in streaming.chunks:
            kind = msg.WhichOneof("event")
            if kind == "chunk":
                if out := events.chunk(msg.chunk):
                    yield b"".join(out)
            elif kind == "end":
                final, out = events.finish(msg.end.usage)
                if out:
                    yield b"".join(out)
                await self._save(who, req, final)
                yield events.completed_event(final)
                return
            else:
                yield b"".join(events.fail(msg.error))
                return

    async def _native_events(
        self, who: auth_pb2.Principal, req: ResponsesRequest, rid: str, streaming: Streaming
    ) -> AsyncIterator[bytes]:
        events = responses.NativeEvents(req, rid, int(time.time()), streaming.first_chunk.model or req.model)
        async for msg in _whole(streaming):
            kind = msg.WhichOneof("event")
            if kind == "chunk" and msg.chunk.native_json:
                out, last = events.event(msg.chunk.native_json)
                if last and events.final is not None:
                    await self._save(who, req, events.final)
                yield out
            elif kind == "error":
                yield events.fail(msg.error)
                return
            elif kind == "end":
                return

    # --- stored responses -----------------------------------------------------------------------
    async def _stored(self, request: Request, rid: str) -> tuple[auth_pb2.Principal, Any]:
        who = await self._edge.gateway.authenticate(credential_of(request), request.scope["path"])
        try:
            stored = await self._store.get(who.account_id, rid)
        except StoreUnavailable:
            raise _unavailable() from None
        if stored is None:
            raise _not_found(rid)
        return who, stored

    async def retrieve(self, request: Request, response_id: str) -> Response:
        try:
            if request.query_params.get("stream") in ("true", "1"):
                raise RequestError("replaying a stored response as a stream is not supported", "stream")
            _, (_, obj) = await self._stored(request, response_id)
        except GatewayError as exc:
            return openai_error(exc.error, exc.headers)
        except RequestError as exc:
            return _bad_request(exc)
        return json_response(obj)

    async def delete(self, request: Request, response_id: str) -> Response:
        try:
            who = await self._edge.gateway.authenticate(credential_of(request), request.scope["path"])
            try:
                deleted = await self._store.delete(who.account_id, response_id)
            except StoreUnavailable:
                raise _unavailable() from None
            if not deleted:
                raise _not_found(response_id)
        except GatewayError as exc:
            return openai_error(exc.error, exc.headers)
        return json_response({"id": response_id, "object": "response", "deleted": True})

    async def input_items(self, request: Request, response_id: str) -> Response:
        q = request.query_params
        try:
            limit = _page_limit(q.get("limit"))
            order = q.get("order") or "desc"
            if order not in ("asc", "desc"):
                raise RequestError("'order' must be asc or desc", "order")
            who = await self._edge.gateway.authenticate(credential_of(request), request.scope["path"])
            try:
                chain = await self._store.chain(who.account_id, response_id, self._max_chain)
            except StoreUnavailable:
                raise _unavailable() from None
            if not chain:
                raise _not_found(response_id)
            # The conversation before the response, then the response's own input.
            items = responses.conversation(chain[:-1]) + chain[-1][0]
            page = responses.item_page(items, limit=limit, order=order, after=q.get("after"))
        except GatewayError as exc:
            return openai_error(exc.error, exc.headers)
        except RequestError as exc:
            return _bad_request(exc)
        return json_response(page)


def _page_limit(raw: str | None) -> int:
    if raw is None:
        return 20
    if not raw.isdigit() or not 1 <= int(raw) <= _MAX_PAGE:
        raise RequestError(f"'limit' must be an integer from 1 to {_MAX_PAGE}", "limit")
    return int(raw)


async def _whole(streaming: Streaming) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
    """The stream's messages from its first chunk on."""
    yield provider_pb2.ChatStreamResponse(chunk=streaming.first_chunk)
    async for msg in streaming.chunks:
        yield msg
