"""Anthropic Messages requests (https://docs.anthropic.com/en/api/messages) into the pipeline.

A body is decoded once into a ``MessagesRequest``:

- ``chat``, its translation into the chat model: what the pipeline reads (token estimate, budget,
  guardrails, routing) and what deployments of other APIs (OpenAI-compatible, Gemini, ...) are
  sent. It holds only what an OpenAI-shaped provider understands: thinking blocks of earlier
  turns, ``cache_control`` and the like are left out, since those providers reject or ignore them.
- ``native``, the client's own body: deployments that speak the Messages API (Claude on Anthropic,
  Bedrock, Vertex) are sent it as it is, so nothing is lost (``switchyard_llm.anthropic_messages``).
- what no translation can carry (server tools, documents by URL, citations, MCP servers, ...):
  a deployment of another API answers such a request with a 400 naming each field, unsent.
- the Anthropic extensions of the translation: with guardrails, which read and mask the chat
  model, Claude deployments are sent ``claude_chat()``, the (masked) translation with them added
  under the keys the provider adapter's Anthropic and Bedrock modules read (LiteLLM's:
  ``cache_control``, ``thinking_blocks`` with their signatures, ``is_error``, ``thinking``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import orjson

from switchyard.llm.v1 import chat_pb2, deployment_pb2, error_pb2, messages_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import RequestError, make_error
from switchyard_llm.event_fields import MAX_ID_CHARS, MAX_MODEL_CHARS, text_problem
from switchyard_llm.openai_codec.options import GATEWAY_KEYS, options_from_json

# Keys of the body a translation carries (each below, under its chat name).
_TRANSLATED = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "output_format",
        "output_config",
        # Hints that mean nothing to other APIs, left out of the translation: Anthropic's capacity
        # tiers (others' tiers mean something else) and its server-side context editing (clearing
        # old thinking or tool results, which agentic clients send on every request).
        "service_tier",
        "context_management",
    }
)
# Gateway controls (LiteLLM's body extensions) are taken out of the body; `metadata` is the
# Messages API's own (`user_id`), and LiteLLM's metadata keys beside it are the gateway's.
_GATEWAY_KEYS = GATEWAY_KEYS - {"metadata"}
# What a count_tokens body may hold of a Messages body but the count endpoints refuse: a client
# may count the very body it is about to send.
_NOT_COUNTED = frozenset(
    {"max_tokens", "stream", "temperature", "top_p", "top_k", "stop_sequences", "metadata", "service_tier"}
)
# The thinking budget each reasoning_effort stands for (the provider adapter's mapping the other
# way, claude.THINKING_BUDGETS): a budget gets the largest effort it covers.
_EFFORTS = ((4096, "high"), (2048, "medium"), (0, "low"))
_TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})


def _fail(message: str, param: str) -> NoReturn:
    raise RequestError(message, param)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(f"{where}: Input should be an object", where)
    return value


def _string(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        _fail(f"{where}.{key}: Field required (a string)", where)
    return value


def _number(body: Mapping[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(f"{key}: Input should be a number", key)
    return float(value)


def _integer(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 62:
        _fail(f"{key}: Input should be a non-negative integer", key)
    return value


def _extra(keys: Mapping[str, Any]) -> bytes:
    return orjson.dumps(keys) if keys else b""


def _merge(raw: bytes, keys: Mapping[str, Any]) -> bytes:
    merged = orjson.loads(raw) if raw else {}
    merged.update(keys)
    return orjson.dumps(merged)


@dataclass(slots=True)
class _Extensions:
    """What ``claude_chat`` adds to the translation, by position in it."""

    # (message index, part index, keys for the part's extra_json)
    parts: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    # (message index, keys for the message's extra_json)
    messages: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # (tool index, keys for the tool's extra_json)
    tools: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Top-level keys sent as they are, and the typed fields they stand in for.
    request: dict[str, Any] = field(default_factory=dict)
    replaces: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.parts or self.messages or self.tools or self.request)


@dataclass(slots=True)
class MessagesRequest:
    """A decoded ``/v1/messages`` body (see the module's docstring)."""

    chat: chat_pb2.ChatCompletionRequest
    native: messages_pb2.AnthropicMessagesRequest
    # Fields no translation can carry, each as (param, what it is).
    untranslatable: list[tuple[str, str]]
    extensions: _Extensions
    # The client's max_tokens (0 in a count_tokens body).
    max_tokens: int = 0
    _slim: chat_pb2.ChatCompletionRequest | None = None

    def slim(self) -> chat_pb2.ChatCompletionRequest:
        """The request beside ``native``: only what the provider adapter reads of it (the model
        and the gateway's options)."""
        if self._slim is None:
            self._slim = chat_pb2.ChatCompletionRequest(model=self.chat.model, options=self.chat.options)
        return self._slim

    def fit(self, dep: deployment_pb2.Deployment) -> chat_pb2.ChatCompletionRequest:
        """The translation for ``dep``, its ``max_tokens`` capped at the deployment's maximum
        output when that is known: a Messages client sets the most it allows (coding agents ask
        for 32,000), which other APIs refuse above their model's own cap."""
        cap = dep.max_output_tokens
        if cap and self.max_tokens > cap:
            self.chat.max_tokens = cap
        elif self.max_tokens:
            self.chat.max_tokens = self.max_tokens
        return self.chat

    def refusal(self, dep: deployment_pb2.Deployment) -> error_pb2.Error | None:
        """The 400 a deployment that does not speak the Messages API answers, when the request
        holds what its translation cannot carry. It is the request's failure, not the
        deployment's."""
        if not self.untranslatable:
            return None
        fields = "; ".join(f"{param}: {what}" for param, what in self.untranslatable)
        return make_error(
            ErrorKind.ERROR_KIND_BAD_REQUEST,
            f"Model group '{dep.model_group}' is served by a {dep.provider} deployment, which the Messages "
            f"API reaches through a translation that cannot carry: {fields}. Only Claude deployments "
            "(Anthropic, Bedrock, Vertex) serve these.",
            param=self.untranslatable[0][0],
            source=error_pb2.FAILURE_SOURCE_REQUEST,
        )

    def claude_chat(self) -> chat_pb2.ChatCompletionRequest:
        """The translation as it now stands (guardrails may have masked it), with the Anthropic
        extensions added: for a Claude deployment when the translation must be sent."""
        ext = self.extensions
        if not ext:
            return self.chat
        out = chat_pb2.ChatCompletionRequest()
        out.CopyFrom(self.chat)
        for i, j, keys in ext.parts:
            part = out.messages[i].parts.parts[j]
            part.extra_json = _merge(part.extra_json, keys)
        for i, keys in ext.messages:
            out.messages[i].extra_json = _merge(out.messages[i].extra_json, keys)
        for i, keys in ext.tools:
            out.tools[i].extra_json = _merge(out.tools[i].extra_json, keys)
        for name in ext.replaces:
            out.ClearField(name)
        if ext.request:
            out.extra_json = _merge(out.extra_json, ext.request)
        return out


def decode(body: Any, raw: bytes, *, beta: str = "", max_messages: int, count: bool = False) -> MessagesRequest:
    """Parse and check a client's Messages body (``raw`` its bytes, sent on as they are when the
    body holds no gateway controls); ``beta`` is its ``anthropic-beta`` header. ``count``: a
    ``count_tokens`` body, which has no ``max_tokens``."""
    if not isinstance(body, Mapping):
        _fail("The request body must be a JSON object", "")
    return _Decoder(max_messages).decode(body, raw, beta, count)


class _Decoder:
    def __init__(self, max_messages: int) -> None:
        self._max_messages = max_messages
        self.untranslatable: list[tuple[str, str]] = []
        self.ext = _Extensions()

    def _only_messages_api(self, where: str, what: str) -> None:
        self.untranslatable.append((where, what))

    # --- the request --------------------------------------------------------------------
    def decode(self, body: Mapping[str, Any], raw: bytes, beta: str, count: bool) -> MessagesRequest:
        req = chat_pb2.ChatCompletionRequest(model=self._model(body))
        if body.get("max_tokens") is None:
            if not count:
                _fail("max_tokens: Field required", "max_tokens")
        elif (cap := _integer(body, "max_tokens")) is None or cap < 1:
            _fail("max_tokens: Input should be greater than or equal to 1", "max_tokens")
        else:
            req.max_tokens = cap
        self._system(body.get("system"), req)
        self._messages(body.get("messages"), req)
        stream = body.get("stream")
        if stream is not None and not isinstance(stream, bool):
            _fail("stream: Input should be a valid boolean", "stream")
        req.stream = bool(stream)
        if (t := _number(body, "temperature")) is not None:
            req.temperature = t
        if (p := _number(body, "top_p")) is not None:
            req.top_p = p
        extra: dict[str, Any] = {}
        if (k := _integer(body, "top_k")) is not None:
            extra["top_k"] = k
        stops = body.get("stop_sequences")
        if stops is not None:
            if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
                _fail("stop_sequences: Input should be a list of strings", "stop_sequences")
            req.stop.extend(stops)
        self._metadata(body, req)
        self._tools(body.get("tools"), req)
        self._tool_choice(body.get("tool_choice"), req)
        self._thinking(body.get("thinking"), req)
        self._output(body, req)
        for hint in ("service_tier", "context_management"):
            if body.get(hint) is not None:
                self.ext.request[hint] = body[hint]
        for key in body.keys() - _TRANSLATED - _GATEWAY_KEYS:
            # container, mcp_servers, context_management and whatever the API grows next.
            self._only_messages_api(key, "a Messages API parameter")
            self.ext.request[key] = body[key]
        if beta:
            self.ext.request["extra_headers"] = {"anthropic-beta": beta}
        req.extra_json = _extra(extra)
        gateway = {k: v for k, v in body.items() if k in _GATEWAY_KEYS}
        meta = body.get("metadata")
        if isinstance(meta, Mapping) and meta.keys() - {"user_id"}:
            gateway["metadata"] = {k: v for k, v in meta.items() if k != "user_id"}
        options_from_json(gateway, req.options)
        native = messages_pb2.AnthropicMessagesRequest(body_json=self._native_body(body, raw, count), beta=beta)
        return MessagesRequest(req, native, self.untranslatable, self.ext, req.max_tokens)

    @staticmethod
    def _model(body: Mapping[str, Any]) -> str:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            _fail("model: Field required", "model")
        if problem := text_problem(model, "model", MAX_MODEL_CHARS):
            _fail(problem, "model")
        return model

    @staticmethod
    def _native_body(body: Mapping[str, Any], raw: bytes, count: bool) -> bytes:
        """The body for a Messages API deployment: the client's bytes, unless gateway controls
        (or LiteLLM metadata beside ``user_id``, or what a count does not take) must come out."""
        meta = body.get("metadata")
        extra_meta = isinstance(meta, Mapping) and meta.keys() - {"user_id"}
        dropped = _GATEWAY_KEYS | _NOT_COUNTED if count else _GATEWAY_KEYS
        if not extra_meta and not (body.keys() & dropped):
            return raw
        out = {k: v for k, v in body.items() if k not in dropped}
        if isinstance(meta, Mapping) and not count:
            if "user_id" in meta:
                out["metadata"] = {"user_id": meta["user_id"]}
            else:
                del out["metadata"]
        return orjson.dumps(out)

    @staticmethod
    def _metadata(body: Mapping[str, Any], req: chat_pb2.ChatCompletionRequest) -> None:
        meta = body.get("metadata")
        if meta is None:
            return
        meta = _object(meta, "metadata")
        user = meta.get("user_id")
        if user is not None:
            if not isinstance(user, str):
                _fail("metadata.user_id: Input should be a string", "metadata.user_id")
            if problem := text_problem(user, "metadata.user_id", MAX_ID_CHARS):
                _fail(problem, "metadata.user_id")
            req.user = user

    # --- system and messages ------------------------------------------------------------
    def _system(self, system: Any, req: chat_pb2.ChatCompletionRequest, where: str = "system") -> None:
        if system is None:
            return
        msg = req.messages.add(role="system")
        if isinstance(system, str):
            msg.text = system
            return
        if not isinstance(system, list):
            _fail(f"{where}: Input should be a string or a list of text blocks", where)
        msg.parts.SetInParent()
        for j, block in enumerate(system):
            w = f"{where}[{j}]"
            block = _object(block, w)
            if block.get("type") != "text":
                _fail(f"{w}.type: Input should be 'text'", where)
            msg.parts.parts.add(text=_string(block, "text", w))
            self._cache_control(block, len(req.messages) - 1, j)

    def _messages(self, messages: Any, req: chat_pb2.ChatCompletionRequest) -> None:
        if messages is None:
            _fail("messages: Field required", "messages")
        if not isinstance(messages, list):
            _fail("messages: Input should be a valid list", "messages")
        if len(messages) > self._max_messages:
            _fail(f"messages: at most {self._max_messages} messages are accepted", "messages")
        for i, m in enumerate(messages):
            where = f"messages[{i}]"
            m = _object(m, where)
            role = m.get("role")
            if role == "system":
                # A system message mid-conversation (the mid-conversation-system beta that coding
                # agents send): text, as a system prompt.
                self._system(m.get("content"), req, where)
                continue
            if role not in ("user", "assistant"):
                _fail(f"{where}.role: Input should be 'user', 'assistant' or 'system'", "messages")
            content = m.get("content")
            if isinstance(content, str):
                req.messages.add(role=role, text=content)
            elif isinstance(content, list):
                if not content and role == "user":
                    _fail(f"{where}.content: List should have at least 1 item", "messages")
                if role == "user":
                    self._user(content, where, req)
                else:
                    self._assistant(content, where, req)
            else:
                _fail(f"{where}.content: Input should be a string or a list of content blocks", "messages")

    def _cache_control(self, block: Mapping[str, Any], i: int, j: int) -> None:
        if block.get("cache_control") is not None:
            self.ext.parts.append((i, j, {"cache_control": block["cache_control"]}))

    def _user(self, blocks: list[Any], where: str, req: chat_pb2.ChatCompletionRequest) -> None:
        """Tool results become tool messages (OpenAI wants them right after the assistant's
        calls), the other blocks one user message after them."""
        parts: list[tuple[chat_pb2.ContentPart, Mapping[str, Any]]] = []
        for j, block in enumerate(blocks):
            w = f"{where}.content[{j}]"
            block = _object(block, w)
            if block.get("type") == "tool_result":
                parts.extend(self._tool_result(block, w, req))
            else:
                parts.append((self._part(block, w), block))
        if parts:
            msg = req.messages.add(role="user")
            msg.parts.SetInParent()
            i = len(req.messages) - 1
            for j, (part, block) in enumerate(parts):
                msg.parts.parts.append(part)
                self._cache_control(block, i, j)

    def _tool_result(
        self, block: Mapping[str, Any], where: str, req: chat_pb2.ChatCompletionRequest
    ) -> list[tuple[chat_pb2.ContentPart, Mapping[str, Any]]]:
        """Adds the tool message; returns the result's images, which OpenAI takes only in a user
        message (the one after the tool messages)."""
        msg = req.messages.add(role="tool", tool_call_id=_string(block, "tool_use_id", where))
        content = block.get("content")
        moved: list[tuple[chat_pb2.ContentPart, Mapping[str, Any]]] = []
        if content is None or isinstance(content, str):
            msg.text = content or ""
        elif isinstance(content, list):
            msg.parts.SetInParent()
            for k, inner in enumerate(content):
                w = f"{where}.content[{k}]"
                inner = _object(inner, w)
                part = self._part(inner, w)
                if part.WhichOneof("part") == "text":
                    msg.parts.parts.append(part)
                else:
                    moved.append((part, {}))
            if not msg.parts.parts:
                msg.text = ""
        else:
            _fail(f"{where}.content: Input should be a string or a list of content blocks", "messages")
        keys = {k: block[k] for k in ("is_error", "cache_control") if block.get(k) is not None}
        if keys:
            self.ext.messages.append((len(req.messages) - 1, keys))
        return moved

    def _part(self, block: Mapping[str, Any], where: str) -> chat_pb2.ContentPart:
        btype = block.get("type")
        if btype == "text":
            if block.get("citations"):
                self._only_messages_api(f"{where}.citations", "citations")
            return chat_pb2.ContentPart(text=_string(block, "text", where))
        if btype == "image":
            return self._image(block, where)
        if btype == "document":
            return self._document(block, where)
        if not isinstance(btype, str):
            _fail(f"{where}.type: Field required", "messages")
        # search_result, container_upload and blocks added to the API later.
        self._only_messages_api(where, f"a {btype} block")
        return chat_pb2.ContentPart(other_json=orjson.dumps(block))

    def _image(self, block: Mapping[str, Any], where: str) -> chat_pb2.ContentPart:
        source = _object(block.get("source"), f"{where}.source")
        stype = source.get("type")
        part = chat_pb2.ContentPart()
        if stype == "base64":
            media = _string(source, "media_type", f"{where}.source")
            part.image_url.url = f"data:{media};base64,{_string(source, 'data', f'{where}.source')}"
        elif stype == "url":
            part.image_url.url = _string(source, "url", f"{where}.source")
        else:
            self._only_messages_api(f"{where}.source", f"an image from a {stype} source")
            part.other_json = orjson.dumps(block)
        return part

    def _document(self, block: Mapping[str, Any], where: str) -> chat_pb2.ContentPart:
        source = _object(block.get("source"), f"{where}.source")
        stype = source.get("type")
        citations = block.get("citations")
        if citations is not None and _object(citations, f"{where}.citations").get("enabled"):
            self._only_messages_api(f"{where}.citations", "citations")
        if stype == "base64":
            media = _string(source, "media_type", f"{where}.source")
            part = chat_pb2.ContentPart()
            part.file.file_data = f"data:{media};base64,{_string(source, 'data', f'{where}.source')}"
            title = block.get("title")
            part.file.filename = title if isinstance(title, str) and title else "document.pdf"
            return part
        if stype == "text":
            return chat_pb2.ContentPart(text=_string(source, "data", f"{where}.source"))
        if stype == "content":
            inner = source.get("content")
            if isinstance(inner, str):
                return chat_pb2.ContentPart(text=inner)
            if isinstance(inner, list) and all(isinstance(b, Mapping) and b.get("type") == "text" for b in inner):
                return chat_pb2.ContentPart(text="\n\n".join(str(b.get("text", "")) for b in inner))
        self._only_messages_api(f"{where}.source", f"a document from a {stype} source")
        return chat_pb2.ContentPart(other_json=orjson.dumps(block))

    def _assistant(self, blocks: list[Any], where: str, req: chat_pb2.ChatCompletionRequest) -> None:
        msg = req.messages.add(role="assistant")
        i = len(req.messages) - 1
        texts: list[tuple[str, Mapping[str, Any]]] = []
        thinking: list[dict[str, Any]] = []
        for j, block in enumerate(blocks):
            w = f"{where}.content[{j}]"
            block = _object(block, w)
            btype = block.get("type")
            if btype == "text":
                texts.append((_string(block, "text", w), block))
            elif btype == "tool_use":
                tool_input = block.get("input")
                if not isinstance(tool_input, Mapping):
                    _fail(f"{w}.input: Input should be an object", "messages")
                tc = msg.tool_calls.add(id=_string(block, "id", w), type="function")
                tc.function.name = _string(block, "name", w)
                tc.function.arguments = orjson.dumps(tool_input).decode()
            elif btype in ("thinking", "redacted_thinking"):
                # Other APIs cannot check a signature, and some (DeepSeek) refuse reasoning sent back.
                thinking.append(dict(block))
            elif isinstance(btype, str):
                # server_tool_use, web_search_tool_result and other server-side blocks.
                self._only_messages_api(w, f"a {btype} block")
            else:
                _fail(f"{w}.type: Field required", "messages")
        if len(texts) == 1 and texts[0][1].get("cache_control") is None:
            msg.text = texts[0][0]
        elif texts:
            msg.parts.SetInParent()
            for j, (text, block) in enumerate(texts):
                msg.parts.parts.add(text=text)
                self._cache_control(block, i, j)
        if not texts and not msg.tool_calls:
            msg.text = ""
        if thinking:
            self.ext.messages.append((i, {"thinking_blocks": thinking}))

    # --- tools and parameters -----------------------------------------------------------
    def _tools(self, tools: Any, req: chat_pb2.ChatCompletionRequest) -> None:
        if tools is None:
            return
        if not isinstance(tools, list):
            _fail("tools: Input should be a valid list", "tools")
        for i, tool in enumerate(tools):
            where = f"tools[{i}]"
            tool = _object(tool, where)
            ttype = tool.get("type")
            if ttype not in (None, "custom"):
                # Anthropic's server and client tools (web_search, bash, text_editor, computer, ...).
                self._only_messages_api(where, f"the {ttype} tool")
                req.tools.add(type=str(ttype), extra_json=orjson.dumps(tool))
                continue
            t = req.tools.add(type="function")
            t.function.name = _string(tool, "name", where)
            if isinstance(tool.get("description"), str):
                t.function.description = tool["description"]
            schema = tool.get("input_schema")
            if not isinstance(schema, Mapping):
                _fail(f"{where}.input_schema: Field required (a JSON schema object)", "tools")
            t.function.parameters_json = orjson.dumps(schema)
            if isinstance(tool.get("strict"), bool):
                t.function.strict = tool["strict"]
            if tool.get("cache_control") is not None:
                self.ext.tools.append((i, {"cache_control": tool["cache_control"]}))

    def _tool_choice(self, choice: Any, req: chat_pb2.ChatCompletionRequest) -> None:
        if choice is None:
            return
        choice = _object(choice, "tool_choice")
        ctype = choice.get("type")
        if not isinstance(ctype, str) or ctype not in _TOOL_CHOICES:
            _fail("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'", "tool_choice")
        if ctype == "tool":
            req.tool_choice.function_name = _string(choice, "name", "tool_choice")
        else:
            req.tool_choice.mode = {"auto": "auto", "any": "required", "none": "none"}[ctype]
        if choice.get("disable_parallel_tool_use") is True:
            req.parallel_tool_calls = False

    def _thinking(self, thinking: Any, req: chat_pb2.ChatCompletionRequest) -> None:
        if thinking is None:
            return
        thinking = _object(thinking, "thinking")
        self.ext.request["thinking"] = dict(thinking)
        self.ext.replaces.add("reasoning_effort")
        ttype = thinking.get("type")
        # Only an explicit budget becomes a reasoning_effort: "adaptive" leaves thinking to the
        # model, and other deployments then think as they do by default (an effort would make
        # models that do not reason refuse the call).
        if ttype == "enabled":
            budget = thinking.get("budget_tokens")
            if isinstance(budget, bool) or not isinstance(budget, int):
                _fail("thinking.budget_tokens: Field required (an integer)", "thinking")
            req.reasoning_effort = next(effort for floor, effort in _EFFORTS if budget >= floor)
        elif ttype not in ("adaptive", "disabled"):
            _fail("thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'", "thinking")

    def _output(self, body: Mapping[str, Any], req: chat_pb2.ChatCompletionRequest) -> None:
        """Structured outputs (``output_format``, or ``output_config.format``). Claude's
        ``output_config.effort`` (how many tokens the whole answer may spend) has no counterpart
        elsewhere and is left out, as coding agents send it on every request."""
        config = body.get("output_config")
        fmt = body.get("output_format")
        if config is not None:
            config = _object(config, "output_config")
            self.ext.request["output_config"] = dict(config)
            fmt = config.get("format", fmt)
            for key in config.keys() - {"format", "effort"}:
                self._only_messages_api(f"output_config.{key}", "a Messages API parameter")
        if body.get("output_format") is not None:
            self.ext.request["output_format"] = body["output_format"]
        if fmt is None:
            return
        fmt = _object(fmt, "output_format")
        if fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), Mapping):
            _fail("output_format: Input should be {'type': 'json_schema', 'schema': {...}}", "output_format")
        req.response_format.type = "json_schema"
        req.response_format.json_schema.name = "output"
        req.response_format.json_schema.schema_json = orjson.dumps(fmt["schema"])
        self.ext.replaces.add("response_format")
