"""The request pipeline behind every front door (the HTTP dialects and the gRPC Gateway API):
authenticate → input guardrails → admit (key rate limits, router plan, budget hold) → attempts
per the plan (retries, fallbacks) → output guardrails → usage events and outcome reports. Each
step lives in its own module; this file only puts them in order for each kind of call."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from switchyard.auth.v1 import auth_pb2
from switchyard.guardrail.v1 import guardrail_pb2
from switchyard.llm.v1 import chat_pb2, deployment_pb2, embeddings_pb2, images_pb2, models_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.clients.adapter import AdapterClient
from switchyard_edge.clients.budget_leases import BudgetLeases
from switchyard_edge.clients.customers import Customers
from switchyard_edge.clients.events import UsagePublisher
from switchyard_edge.clients.guardrail import GuardrailClient
from switchyard_edge.clients.key_limits import KeyLimiter
from switchyard_edge.clients.principals import Principals
from switchyard_edge.clients.router import RouterClient
from switchyard_edge.config import Settings
from switchyard_edge.dialects.anthropic.request import MessagesRequest
from switchyard_edge.domain import estimate
from switchyard_edge.domain.call import Attempt, Call, CallType, Completed, Request, Streaming
from switchyard_edge.domain.tenancy import route_allowed
from switchyard_edge.errors import GatewayError
from switchyard_edge.pipeline import mock, stream
from switchyard_edge.pipeline.accounting import Accounting
from switchyard_edge.pipeline.admission import Admission
from switchyard_edge.pipeline.attempts import Attempts, Invoke
from switchyard_llm.anthropic_messages import speaks_messages

# A token count refused for one of these is the client's error (other failures leave the estimate).
_CLIENTS_MISTAKE = frozenset({ErrorKind.ERROR_KIND_BAD_REQUEST, ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED})

# (call, deployment, request, seconds left[, native Messages API request]) → the attempt.
ChatSend = Callable[..., Awaitable[Attempt]]
# A dialect's request for a deployment that serves the client's API natively, or None: that
# deployment is sent the translation into the chat model.
Native = Callable[[deployment_pb2.Deployment], chat_pb2.ChatCompletionRequest | None]


class Gateway:
    def __init__(
        self,
        settings: Settings,
        principals: Principals,
        router: RouterClient,
        guardrails: GuardrailClient,
        adapter: AdapterClient,
        usage: UsagePublisher,
        leases: BudgetLeases,
        key_limits: KeyLimiter,
        customers: Customers,
    ) -> None:
        self.settings = settings
        self._principals = principals
        self._router = router
        self._guardrails = guardrails
        self._adapter = adapter
        self._leases = leases
        self._key_limits = key_limits
        self._customers = customers
        self._accounting = Accounting(usage, router)
        self._attempts = Attempts(router, self._accounting, default_timeout=settings.request_timeout_seconds)

    async def authenticate(self, credential: str, route: str) -> auth_pb2.Principal:
        """The caller of ``credential``; 403 when its key may not call ``route`` (the request's
        path; its ``allowed_routes``)."""
        if not credential:
            raise GatewayError.of(
                ErrorKind.ERROR_KIND_AUTHENTICATION, "No api key passed in. Send it as 'Authorization: Bearer sk-...'."
            )
        principal = await self._principals.authenticate(credential)
        if principal.allowed_routes and route and not route_allowed(principal.allowed_routes, route):
            raise GatewayError.of(
                ErrorKind.ERROR_KIND_PERMISSION_DENIED,
                f"This key may not call {route}: allowed routes are {list(principal.allowed_routes)}.",
            )
        return principal

    def _call(
        self, principal: auth_pb2.Principal, call_type: CallType, request: Request, stream: bool, end_user: str = ""
    ) -> Call:
        return Call.start(
            principal,
            call_type,
            request,
            stream=stream,
            default_timeout=self.settings.request_timeout_seconds,
            end_user=end_user,
        )

    def _admission(self, call: Call) -> Admission:
        return Admission(
            call,
            self._key_limits,
            self._leases,
            self._router,
            self.settings.default_max_output_tokens,
            self._customers,
        )

    # --- chat ---------------------------------------------------------------------------
    async def chat(
        self,
        principal: auth_pb2.Principal,
        request: chat_pb2.ChatCompletionRequest,
        call_type: CallType = CallType.CHAT,
        *,
        messages: MessagesRequest | None = None,
        native: Native | None = None,
        end_user: str = "",
    ) -> Completed:
        """``messages``: the Anthropic Messages request ``request`` translates (a Claude
        deployment answers it natively: the result is then its message, JSON bytes). ``native``:
        the body for a deployment that serves the client's API natively (Responses).
        ``end_user``: the end user a header names (the body's ``user`` wins)."""
        call = self._call(principal, call_type, request, False, end_user)
        async with self._admission(call) as adm:
            send = mock.chat if request.options.HasField("mock_response") else self._adapter.chat
            dep, attempt, started = await self._run_chat(adm, request, send, messages, native)
            try:
                await self._guardrails.check_output(call, attempt.result)
            finally:
                self._accounting.record(adm, dep, attempt, final=True, started=started)
            assert attempt.stats is not None
            return Completed(call, attempt.result, attempt.stats)

    async def chat_stream(
        self,
        principal: auth_pb2.Principal,
        request: chat_pb2.ChatCompletionRequest,
        call_type: CallType = CallType.CHAT,
        *,
        messages: MessagesRequest | None = None,
        native: Native | None = None,
        end_user: str = "",
    ) -> Streaming:
        """Start a stream: returns once the first chunk is in hand, so a failure before any byte
        reaches the client can still be retried or reported with its HTTP status. ``messages``
        and ``end_user`` as in ``chat`` (a Claude deployment's stream carries its own events)."""
        call = self._call(principal, call_type, request, True, end_user)
        async with self._admission(call) as adm:
            send = mock.open_stream if request.options.HasField("mock_response") else self._adapter.open_stream
            dep, attempt, started = await self._run_chat(adm, request, send, messages, native)
            return stream.start(adm, dep, attempt, started, self._accounting, self._guardrails)

    async def _run_chat(
        self,
        adm: Admission,
        request: chat_pb2.ChatCompletionRequest,
        send: ChatSend,
        messages: MessagesRequest | None = None,
        native: Native | None = None,
    ) -> tuple[deployment_pb2.Deployment, Attempt, float]:
        call = adm.call
        if call.options.HasField("mock_response"):
            # A mocked answer is the chat model's; a dialect translates it as any other.
            messages = native = None
        call.input_tokens = estimate.prompt_tokens(request.messages, request.tools)
        plan = await adm.admit(request)
        await self._guardrails.check_input(call, request)
        # A budgeted request is never sent without the output limit its worst case assumed.
        unlimited = call.budgeted and not estimate.sets_output_limit(request)
        default_output = self.settings.default_max_output_tokens

        async def invoke(dep: deployment_pb2.Deployment, remaining: float) -> Attempt:
            sent = (native(dep) if native is not None else None) or request
            if unlimited:
                estimate.limit_output(sent, dep, default_output)
            if messages is not None:
                return await self._messages_attempt(call, dep, messages, remaining, send)
            return await send(call, dep, sent, remaining)

        started = time.time()
        dep, attempt = await self._attempts.run(adm, plan, invoke)
        return dep, attempt, started

    @staticmethod
    async def _messages_attempt(
        call: Call, dep: deployment_pb2.Deployment, messages: MessagesRequest, remaining: float, send: ChatSend
    ) -> Attempt:
        """One attempt of a Messages API request: a deployment that speaks the API gets the
        client's body (or, when guardrails read and mask the translation, the translation with
        Claude's extensions); another gets the translation, unless it cannot carry the request."""
        if speaks_messages(dep.provider, dep.model):
            if not call.guardrails():
                return await send(call, dep, messages.slim(), remaining, messages.native)
            return await send(call, dep, messages.claude_chat(), remaining)
        refusal = messages.refusal(dep)
        if refusal is not None:
            return Attempt(error=refusal)
        return await send(call, dep, messages.fit(dep), remaining)

    async def count_message_tokens(self, principal: auth_pb2.Principal, messages: MessagesRequest) -> int:
        """The input tokens of a Messages API request: counted by the first Claude deployment of
        the model's group that answers (free, so no budget, rate limit or usage event), else the
        pipeline's own estimate (the one budgets are admitted with). A count the provider refuses
        as the client's mistake is the client's error; any other failure leaves the estimate."""
        request = messages.chat
        call = self._call(principal, CallType.ANTHROPIC_MESSAGES, request, False)
        call.input_tokens = estimate.prompt_tokens(request.messages, request.tools)
        plan = await self._router.plan(call)
        try:
            for group in plan.groups[:1]:
                for dep in group.deployments:
                    if not speaks_messages(dep.provider, dep.model):
                        continue
                    counted = await self._adapter.count_tokens(call, dep, messages.native, call.remaining())
                    if isinstance(counted, int):
                        return counted
                    if counted.kind in _CLIENTS_MISTAKE:
                        raise GatewayError(counted)
        finally:
            if plan.lease.lease_id:
                self._router.release(plan.lease, plan.model_group, stream=False)
        return call.input_tokens

    # --- embeddings and images ----------------------------------------------------------
    async def embeddings(
        self, principal: auth_pb2.Principal, request: embeddings_pb2.EmbeddingRequest, end_user: str = ""
    ) -> Completed:
        _refuse_mock(request)
        call = self._call(principal, CallType.EMBEDDING, request, False, end_user)
        async with self._admission(call) as adm:
            if request.WhichOneof("input") == "texts":
                call.input_tokens = sum(len(t) for t in request.texts.values) // 3 + 1
                if names := call.guardrails():
                    texts = guardrail_pb2.CheckTextsRequest(
                        direction=guardrail_pb2.DIRECTION_INPUT, texts=request.texts.values
                    )
                    if masked := await self._guardrails.check_texts(call, names, texts):
                        request.texts.values[:] = masked.texts
            else:
                call.input_tokens = sum(len(t.values) for t in request.tokens.values)

            async def invoke(dep: deployment_pb2.Deployment, remaining: float) -> Attempt:
                return await self._adapter.embed(call, dep, request, remaining)

            return await self._unary(adm, None, invoke)

    async def images(
        self, principal: auth_pb2.Principal, request: images_pb2.ImageGenerationRequest, end_user: str = ""
    ) -> Completed:
        _refuse_mock(request)
        call = self._call(principal, CallType.IMAGE_GENERATION, request, False, end_user)
        async with self._admission(call) as adm:
            if names := call.guardrails():
                prompt = guardrail_pb2.CheckTextsRequest(
                    direction=guardrail_pb2.DIRECTION_INPUT, texts=[request.prompt]
                )
                if masked := await self._guardrails.check_texts(call, names, prompt):
                    request.prompt = masked.texts[0]
            call.input_tokens = len(request.prompt) // 3 + 1

            async def invoke(dep: deployment_pb2.Deployment, remaining: float) -> Attempt:
                return await self._adapter.generate_image(call, dep, request, remaining)

            return await self._unary(adm, request, invoke)

    async def _unary(self, adm: Admission, request: estimate.Request, invoke: Invoke) -> Completed:
        """Admit and run a one-answer call (embeddings, images) through the adapter."""
        plan = await adm.admit(request)
        started = time.time()
        dep, attempt = await self._attempts.run(adm, plan, invoke)
        self._accounting.record(adm, dep, attempt, final=True, started=started)
        assert attempt.stats is not None
        return Completed(adm.call, attempt.result, attempt.stats)

    async def list_models(self, principal: auth_pb2.Principal) -> list[models_pb2.Model]:
        return await self._router.list_models(principal.models)


def _refuse_mock(request: embeddings_pb2.EmbeddingRequest | images_pb2.ImageGenerationRequest) -> None:
    """Only a chat answer is mocked; any other mocked call is refused rather than sent upstream."""
    if request.options.HasField("mock_response"):
        raise GatewayError.of(
            ErrorKind.ERROR_KIND_BAD_REQUEST,
            "'mock_response' is supported on chat calls only (chat, completions, messages, responses)",
            param="mock_response",
        )
