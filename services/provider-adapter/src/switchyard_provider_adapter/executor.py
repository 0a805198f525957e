"""Runs one provider call: builds it with the provider module, sends it over the pooled HTTP
client with the deployment's timeouts, and turns the answer (or failure) into protos with usage,
cost and timing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp

from switchyard.llm.v1 import chat_pb2, deployment_pb2, embeddings_pb2, error_pb2, messages_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_llm.errors import make_error
from switchyard_llm.money import format_usd, parse_usd
from switchyard_llm.pricing import PriceBook
from switchyard_provider_adapter.clients.credentials import CredentialStore
from switchyard_provider_adapter.clients.http import HttpPool
from switchyard_provider_adapter.config import Settings
from switchyard_provider_adapter.domain import text_completions
from switchyard_provider_adapter.domain.allowlists import DEFAULT_ALLOWLISTS, Allowlists
from switchyard_provider_adapter.domain.errors import (
    ProviderFailure,
    RequestNotSent,
    connection_error,
    redact,
    request_not_sent,
    timeout_error,
)
from switchyard_provider_adapter.domain.providers.base import CallContext, HttpCall, Provider
from switchyard_provider_adapter.domain.providers.openai_apis import COMPLETIONS, NATIVE_ENDPOINTS

log = logging.getLogger(__name__)
# Calls at once when one embeddings request is split (a model that takes few inputs per call).
EMBED_PARTS_IN_PARALLEL = 8

_ANTHROPIC_RATELIMIT = "anthropic-ratelimit-"
_PASSTHROUGH_HEADER_PREFIXES = ("x-ratelimit-", _ANTHROPIC_RATELIMIT)


def _rate_limit_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The provider's rate-limit headers for the client: OpenAI's ``x-ratelimit-*`` as sent, and
    Anthropic's ``anthropic-ratelimit-*`` both as sent and under OpenAI's names
    (``anthropic-ratelimit-requests-remaining`` -> ``x-ratelimit-remaining-requests``)."""
    out = {}
    for k, v in headers.items():
        key = k.lower()
        if not key.startswith(_PASSTHROUGH_HEADER_PREFIXES):
            continue
        out[key] = v
        if key.startswith(_ANTHROPIC_RATELIMIT):
            what, _, field = key[len(_ANTHROPIC_RATELIMIT) :].rpartition("-")
            if what in ("requests", "tokens") and field in ("limit", "remaining", "reset"):
                out.setdefault(f"x-ratelimit-{field}-{what}", v)
    return out


# What a call can fail with besides a bug: the provider module's typed failures, a deadline, a
# request the HTTP client would not send, the connection, and an answer that cannot be read.
CALL_FAILURES = (ProviderFailure, TimeoutError, RequestNotSent, aiohttp.ClientError, ValueError, KeyError, TypeError)


def call_error(
    exc: Exception, provider: str, ctx: CallContext | None, *, timed_out: tuple[float, str, bool], reading: str
) -> error_pb2.Error:
    """The error a call that raised one of ``CALL_FAILURES`` answers with. ``timed_out`` is the
    deadline (seconds, what ran out, whether it was the request's own); ``reading`` names what
    could not be read ("response", "stream"). Credentials never reach the message."""
    secrets = ctx.secrets() if ctx is not None else []
    # Order matters: aiohttp's timeouts are also ClientErrors, InvalidURL also a ValueError.
    if isinstance(exc, ProviderFailure):
        return exc.error
    if isinstance(exc, TimeoutError):
        seconds, what, by_request = timed_out
        return timeout_error(provider, seconds, what, by_request=by_request)
    if isinstance(exc, RequestNotSent):
        return request_not_sent(provider, exc, secrets)
    if isinstance(exc, aiohttp.ClientError):
        return connection_error(provider, exc, secrets)
    log.warning(f"unreadable provider {reading}", extra={"provider": provider, "error": repr(exc)})
    return make_error(
        ErrorKind.ERROR_KIND_BAD_GATEWAY,
        redact(f"{provider}: unreadable {reading} from provider: {exc}", secrets),
        provider=provider,
    )


def _stream_message(
    item: chat_pb2.ChatCompletionChunk | messages_pb2.AnthropicEvent,
) -> provider_pb2.ChatStreamResponse:
    """A decoded chunk, or a Messages API event passed on natively."""
    if isinstance(item, messages_pb2.AnthropicEvent):
        return provider_pb2.ChatStreamResponse(anthropic_event=item)
    return provider_pb2.ChatStreamResponse(chunk=item)


# A chat call as the unary and the streaming RPCs take it (the same three fields).
ChatCall = TypeVar("ChatCall", provider_pb2.ChatRequest, provider_pb2.ChatStreamRequest)


def _request_id(headers: Mapping[str, str]) -> str:
    return headers.get("x-request-id") or headers.get("request-id") or headers.get("x-amzn-requestid") or ""


class Executor:
    def __init__(
        self,
        settings: Settings,
        registry: Mapping[str, Provider],
        credentials: CredentialStore,
        http: HttpPool,
        prices: PriceBook,
        allowlists: Allowlists = DEFAULT_ALLOWLISTS,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._credentials = credentials
        self._http = http
        self._prices = prices
        self._allowlists = allowlists

    # --- context ------------------------------------------------------------------------
    def _context(
        self, dep: deployment_pb2.Deployment, call_id: str, drop_params: bool | None
    ) -> tuple[Provider, CallContext]:
        # The deployment as the adapter defines it (its config.yaml copy, or a runtime one whose
        # credentials open only for what they were sealed with), not as the caller sent it.
        resolved = self._credentials.resolve(dep)
        dep = resolved.deployment
        provider = self._registry.get(dep.provider)
        if provider is None:
            raise ProviderFailure(
                make_error(
                    ErrorKind.ERROR_KIND_BAD_REQUEST, f"provider '{dep.provider}' is not supported", param="model"
                )
            )
        ctx = CallContext(
            deployment=dep,
            credentials=resolved.credentials,
            params=resolved.params,
            call_id=call_id,
            drop_params=dep.drop_params if drop_params is None else drop_params or dep.drop_params,
            send=self._send,
            allowlists=self._allowlists,
        )
        return provider, ctx

    def _timeout(self, dep: deployment_pb2.Deployment, request_timeout: float | None) -> tuple[float, bool]:
        """(seconds, whether they are the request's own deadline, shorter than the deployment's).
        A request's ``timeout`` replaces the deployment's, as in LiteLLM."""
        own = dep.timeout_seconds if dep.HasField("timeout_seconds") else self._settings.default_timeout_seconds
        if request_timeout:
            return request_timeout, request_timeout < own
        return own, False

    def _stream_timeout(self, dep: deployment_pb2.Deployment, request_timeout: float | None) -> tuple[float, bool]:
        t = (
            dep.stream_timeout_seconds
            if dep.HasField("stream_timeout_seconds")
            else self._settings.default_stream_timeout_seconds
        )
        if request_timeout and request_timeout < t:
            return request_timeout, True
        return t, False

    def _cost(self, dep: deployment_pb2.Deployment, usage: chat_pb2.Usage) -> str:
        cost = self._prices.cost(dep, usage)
        return "" if cost is None else format_usd(cost)

    async def _send(self, call: HttpCall, timeout: float) -> tuple[int, Mapping[str, str], bytes]:
        session = self._http.session(call.url)
        async with asyncio.timeout(timeout):
            try:
                request = session.request(call.method, call.url, data=call.body, headers=call.headers)
                resp = await request.__aenter__()
            except (ValueError, TypeError, aiohttp.InvalidURL) as exc:
                raise RequestNotSent(str(exc)) from exc
            try:
                body = await resp.read()
                return resp.status, resp.headers, body
            finally:
                await request.__aexit__(None, None, None)

    # --- other OpenAI APIs ------------------------------------------------------------------
    def _prompt_calls(self, req: ChatCall) -> list[ChatCall] | None:
        """A legacy text completion for a deployment that does not serve /v1/completions: its
        calls through chat, one per prompt (None for any other request)."""
        r = req.request
        if not r.HasField("text_completion"):
            return None
        opts = r.options
        provider, ctx = self._context(
            req.deployment, req.call_id, opts.drop_params if opts.HasField("drop_params") else None
        )
        if provider.serves(ctx, COMPLETIONS):
            return None
        parts = text_completions.by_chat(
            r, deployment=ctx.deployment.id, provider=ctx.provider, drop_params=ctx.drop_params
        )
        return [type(req)(deployment=req.deployment, request=p, call_id=req.call_id) for p in parts]

    @staticmethod
    def _check_native(provider: Provider, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> None:
        if req.HasField("native") and not provider.serves(ctx, NATIVE_ENDPOINTS.get(req.native.api, "")):
            raise ProviderFailure(
                make_error(
                    ErrorKind.ERROR_KIND_BAD_REQUEST,
                    f"deployment '{ctx.deployment.id}' ({ctx.provider}) does not serve the {req.native.api!r} API",
                    param="model",
                )
            )

    @staticmethod
    def _joined(answers: list[provider_pb2.ChatResponse], n: int) -> provider_pb2.ChatResponse:
        """The answers to a text completion's per-prompt calls as one (the first failure, if any)."""
        out = provider_pb2.ChatResponse()
        total: Decimal | None = Decimal(0)
        for answer in answers:
            if answer.WhichOneof("result") == "error":
                return answer
            out.stats.upstream_ms = max(out.stats.upstream_ms, answer.stats.upstream_ms)
            if total is not None:  # unknown as soon as one call's price is
                total = total + parse_usd(answer.stats.cost_usd) if answer.stats.cost_usd else None
        out.stats.rate_limit_headers.update(answers[0].stats.rate_limit_headers)
        out.stats.provider_request_id = answers[0].stats.provider_request_id
        out.stats.cost_usd = format_usd(total) if total is not None else ""
        out.completion.CopyFrom(text_completions.join([a.completion for a in answers], n))
        return out

    # --- unary calls --------------------------------------------------------------------
    async def chat(self, req: provider_pb2.ChatRequest) -> provider_pb2.ChatResponse:
        try:
            parts = self._prompt_calls(req)
        except ProviderFailure as exc:
            return provider_pb2.ChatResponse(error=exc.error)
        if parts is not None:
            n = req.request.n if req.request.HasField("n") else 1
            return self._joined(list(await asyncio.gather(*(self.chat(p) for p in parts))), n)
        dep = req.deployment
        opts = req.request.options
        timeout, by_request = self._timeout(dep, opts.timeout_seconds if opts.HasField("timeout_seconds") else None)
        out = provider_pb2.ChatResponse()
        started = time.perf_counter()
        ctx: CallContext | None = None
        try:
            provider, ctx = self._context(dep, req.call_id, opts.drop_params if opts.HasField("drop_params") else None)
            native = req.anthropic_messages if req.HasField("anthropic_messages") else None
            if native is not None:
                call = await provider.messages_call(ctx, native, stream=False)
            else:
                self._check_native(provider, ctx, req.request)
                call = await provider.chat_call(ctx, req.request, stream=False)
            status, headers, body = await self._send(call, timeout)
            out.stats.upstream_ms = (time.perf_counter() - started) * 1000
            out.stats.rate_limit_headers.update(_rate_limit_headers(headers))
            out.stats.provider_request_id = _request_id(headers)
            if status >= 400:
                out.error.CopyFrom(provider.error(ctx, status, headers, body))
                return out
            if native is not None:
                # The provider's message goes back as it wrote it; only its usage is read.
                out.usage.CopyFrom(provider.messages_usage(ctx, body))
                out.anthropic_message_json = body
                out.stats.cost_usd = self._cost(ctx.deployment, out.usage)
                return out
            completion = provider.chat_response(ctx, req.request, body, headers)
            out.completion.CopyFrom(completion)
            out.stats.cost_usd = self._cost(ctx.deployment, completion.usage)
        except CALL_FAILURES as exc:
            out.error.CopyFrom(
                call_error(exc, dep.provider, ctx, timed_out=(timeout, "request", by_request), reading="response")
            )
        if not out.stats.upstream_ms:
            out.stats.upstream_ms = (time.perf_counter() - started) * 1000
        return out

    async def _unary(
        self, kind: str, dep: deployment_pb2.Deployment, call_id: str, request: Any, opts: chat_pb2.RequestOptions
    ) -> tuple[Any, error_pb2.Error | None, provider_pb2.CallStats]:
        stats = provider_pb2.CallStats()
        timeout, by_request = self._timeout(dep, opts.timeout_seconds if opts.HasField("timeout_seconds") else None)
        started = time.perf_counter()
        ctx: CallContext | None = None
        try:
            provider, ctx = self._context(dep, call_id, opts.drop_params if opts.HasField("drop_params") else None)
            if not provider.supports(kind):
                return (
                    None,
                    make_error(
                        ErrorKind.ERROR_KIND_BAD_REQUEST,
                        f"provider '{dep.provider}' does not support {kind}",
                        param="model",
                    ),
                    stats,
                )
            build = provider.embed_call if kind == "embeddings" else provider.image_call
            parse = provider.embed_response if kind == "embeddings" else provider.image_response
            call = await build(ctx, request)
            status, headers, body = await self._send(call, timeout)
            ctx.response_headers = headers
            stats.upstream_ms = (time.perf_counter() - started) * 1000
            stats.rate_limit_headers.update(_rate_limit_headers(headers))
            stats.provider_request_id = _request_id(headers)
            if status >= 400:
                return None, provider.error(ctx, status, headers, body), stats
            result = parse(ctx, request, body)
            cost = (
                self._prices.image_cost(ctx.deployment, request, len(result.data), result.usage)
                if kind == "images"
                else self._prices.cost(ctx.deployment, result.usage)
            )
            stats.cost_usd = "" if cost is None else format_usd(cost)
            return result, None, stats
        except CALL_FAILURES as exc:
            err = call_error(exc, dep.provider, ctx, timed_out=(timeout, "request", by_request), reading="response")
            return None, err, stats

    def _embedding_batch(self, req: provider_pb2.EmbedRequest) -> int | None:
        if req.request.WhichOneof("input") != "texts":
            return None
        opts = req.request.options
        try:
            provider, ctx = self._context(
                req.deployment, req.call_id, opts.drop_params if opts.HasField("drop_params") else None
            )
        except ProviderFailure:
            return None
        per_call = provider.embedding_inputs_per_call(ctx)
        return per_call if per_call and len(req.request.texts.values) > per_call else None

    async def _embed_in_parts(self, req: provider_pb2.EmbedRequest, per_call: int) -> provider_pb2.EmbedResponse:
        """A request with more inputs than the model takes per call: one call per part (a few at
        a time), answers joined in input order; any part failing fails the request."""
        texts = list(req.request.texts.values)
        sem = asyncio.Semaphore(EMBED_PARTS_IN_PARALLEL)

        async def part(start: int) -> tuple[Any, error_pb2.Error | None, provider_pb2.CallStats]:
            sub = embeddings_pb2.EmbeddingRequest()
            sub.CopyFrom(req.request)
            del sub.texts.values[:]
            sub.texts.values.extend(texts[start : start + per_call])
            async with sem:
                return await self._unary("embeddings", req.deployment, req.call_id, sub, sub.options)

        parts = await asyncio.gather(*(part(i) for i in range(0, len(texts), per_call)))
        out = provider_pb2.EmbedResponse()
        total_cost: Decimal | None = Decimal(0)
        for result, err, stats in parts:
            out.stats.upstream_ms = max(out.stats.upstream_ms, stats.upstream_ms)
            out.stats.rate_limit_headers.update(stats.rate_limit_headers)
            out.stats.provider_request_id = out.stats.provider_request_id or stats.provider_request_id
            if err is not None:
                out.error.CopyFrom(err)
                out.stats.cost_usd = ""
                return out
            if total_cost is not None:  # unknown as soon as one part's price is
                total_cost = total_cost + parse_usd(stats.cost_usd) if stats.cost_usd else None
            joined = out.embeddings
            if not joined.model:
                joined.model = result.model
            for e in result.data:
                item = joined.data.add()
                item.CopyFrom(e)
                item.index = len(joined.data) - 1
            joined.usage.prompt_tokens += result.usage.prompt_tokens
            joined.usage.total_tokens += result.usage.total_tokens
        out.stats.cost_usd = format_usd(total_cost) if total_cost is not None else ""
        return out

    async def embed(self, req: provider_pb2.EmbedRequest) -> provider_pb2.EmbedResponse:
        per_call = self._embedding_batch(req)
        if per_call:
            return await self._embed_in_parts(req, per_call)
        result, err, stats = await self._unary(
            "embeddings", req.deployment, req.call_id, req.request, req.request.options
        )
        out = provider_pb2.EmbedResponse(stats=stats)
        if err is not None:
            out.error.CopyFrom(err)
        else:
            out.embeddings.CopyFrom(result)
        return out

    async def generate_image(self, req: provider_pb2.GenerateImageRequest) -> provider_pb2.GenerateImageResponse:
        result, err, stats = await self._unary("images", req.deployment, req.call_id, req.request, req.request.options)
        out = provider_pb2.GenerateImageResponse(stats=stats)
        if err is not None:
            out.error.CopyFrom(err)
        else:
            out.images.CopyFrom(result)
        return out

    async def count_tokens(self, req: provider_pb2.CountTokensRequest) -> provider_pb2.CountTokensResponse:
        dep = req.deployment
        timeout, _ = self._timeout(dep, None)
        out = provider_pb2.CountTokensResponse()
        ctx: CallContext | None = None
        try:
            provider, ctx = self._context(dep, req.call_id, None)
            call = await provider.count_tokens_call(ctx, req.anthropic_messages)
            status, headers, body = await self._send(call, timeout)
            if status >= 400:
                out.error.CopyFrom(provider.error(ctx, status, headers, body))
            else:
                out.input_tokens = provider.count_tokens_response(ctx, body)
        except CALL_FAILURES as exc:
            out.error.CopyFrom(
                call_error(exc, dep.provider, ctx, timed_out=(timeout, "request", False), reading="response")
            )
        return out

    # --- streaming ----------------------------------------------------------------------
    async def chat_stream(self, req: provider_pb2.ChatStreamRequest) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        try:
            parts = self._prompt_calls(req)
        except ProviderFailure as exc:
            yield provider_pb2.ChatStreamResponse(error=exc.error)
            return
        stream = self._chat_stream(req) if parts is None else self._streams_in_turn(parts, req.request)
        async for msg in stream:
            yield msg

    async def _streams_in_turn(
        self, parts: list[ChatCall], req: chat_pb2.ChatCompletionRequest
    ) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        """A text completion's per-prompt streams one after the other, as one stream: choices
        numbered by prompt, usage and cost added up in the end message (or in the error's)."""
        n = req.n if req.HasField("n") else 1
        usage = chat_pb2.Usage()
        stats = provider_pb2.CallStats()
        total: Decimal | None = Decimal(0)
        for prompt, part in enumerate(parts):
            async for msg in self._chat_stream(part):
                kind = msg.WhichOneof("event")
                if kind == "chunk":
                    text_completions.renumber(list(msg.chunk.choices), prompt, n)
                    yield msg
                    continue
                ended = msg.end.stats if kind == "end" else msg.stats
                text_completions.add_usage(usage, msg.end.usage if kind == "end" else msg.usage)
                stats.upstream_ms += ended.upstream_ms
                stats.ttft_ms = stats.ttft_ms or ended.ttft_ms
                if total is not None:
                    total = total + parse_usd(ended.cost_usd) if ended.cost_usd else None
                stats.cost_usd = format_usd(total) if total is not None else ""
                if kind == "error":
                    yield provider_pb2.ChatStreamResponse(error=msg.error, stats=stats, usage=usage)
                    return
        yield provider_pb2.ChatStreamResponse(end=provider_pb2.StreamEnd(usage=usage, stats=stats))

    async def _chat_stream(self, req: ChatCall) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        dep = req.deployment
        opts = req.request.options
        request_timeout = opts.timeout_seconds if opts.HasField("timeout_seconds") else None
        first_timeout, first_by_request = self._stream_timeout(dep, request_timeout)
        idle_timeout = self._settings.stream_idle_timeout_seconds
        started = time.perf_counter()
        stats = provider_pb2.CallStats()
        decoder = None
        ctx: CallContext | None = None
        try:
            provider, ctx = self._context(dep, req.call_id, opts.drop_params if opts.HasField("drop_params") else None)
            native = req.anthropic_messages if req.HasField("anthropic_messages") else None
            if native is not None:
                call = await provider.messages_call(ctx, native, stream=True)
            else:
                self._check_native(provider, ctx, req.request)
                call = await provider.chat_call(ctx, req.request, stream=True)
            session = self._http.session(call.url)
            # The time-to-first-token deadline runs from sending the request to the first chunk.
            first_deadline = asyncio.get_running_loop().time() + first_timeout
            async with asyncio.timeout_at(first_deadline):
                try:
                    resp = await session.request(call.method, call.url, data=call.body, headers=call.headers)
                except (ValueError, TypeError, aiohttp.InvalidURL) as exc:
                    raise RequestNotSent(str(exc)) from exc
            try:
                stats.rate_limit_headers.update(_rate_limit_headers(resp.headers))
                stats.provider_request_id = _request_id(resp.headers)
                if resp.status >= 400:
                    async with asyncio.timeout(first_timeout):
                        body = await resp.read()
                    stats.upstream_ms = (time.perf_counter() - started) * 1000
                    yield provider_pb2.ChatStreamResponse(
                        error=provider.error(ctx, resp.status, resp.headers, body), stats=stats
                    )
                    return
                if native is not None:
                    decoder = provider.messages_decoder(ctx)
                else:
                    decoder = provider.stream_decoder(ctx, req.request)
                frames = provider.frame_decoder()
                got_first = False
                while True:
                    if got_first:
                        async with asyncio.timeout(idle_timeout):
                            data = await resp.content.readany()
                    else:
                        async with asyncio.timeout_at(first_deadline):
                            data = await resp.content.readany()
                    batch = frames.feed(data) if data else frames.close()
                    for frame in batch:
                        for chunk in decoder.feed(frame):
                            if not got_first:
                                got_first = True
                                stats.ttft_ms = (time.perf_counter() - started) * 1000
                                # The provider's rate-limit headers travel with the first chunk,
                                # so the client's response headers can carry them.
                                first = _stream_message(chunk)
                                if stats.rate_limit_headers:
                                    first.stats.rate_limit_headers.update(stats.rate_limit_headers)
                                yield first
                                continue
                            yield _stream_message(chunk)
                    if not data or decoder.finished:
                        break
            finally:
                resp.release()
            stats.upstream_ms = (time.perf_counter() - started) * 1000
            usage = decoder.usage or chat_pb2.Usage()
            stats.cost_usd = self._cost(ctx.deployment, usage)
            yield provider_pb2.ChatStreamResponse(end=provider_pb2.StreamEnd(usage=usage, stats=stats))
        except CALL_FAILURES as exc:
            # Before the first chunk the time-to-first-token deadline ran; after it, the idle one.
            timed_out = (
                (first_timeout, "stream (time to first token)", first_by_request)
                if not stats.ttft_ms
                else (idle_timeout, "stream (no data)", False)
            )
            err = call_error(exc, dep.provider, ctx, timed_out=timed_out, reading="stream")
            yield self._stream_error(err, stats, started, decoder, dep)

    def _stream_error(
        self,
        err: error_pb2.Error,
        stats: provider_pb2.CallStats,
        started: float,
        decoder: Any,
        dep: deployment_pb2.Deployment,
    ) -> provider_pb2.ChatStreamResponse:
        stats.upstream_ms = (time.perf_counter() - started) * 1000
        out = provider_pb2.ChatStreamResponse(error=err, stats=stats)
        usage = decoder.usage if decoder is not None else None
        if usage is not None:
            out.usage.CopyFrom(usage)
            out.stats.cost_usd = self._cost(dep, usage)
        return out
