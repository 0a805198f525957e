from switchyard.llm.v1 import chat_pb2 as _chat_pb2
from switchyard.llm.v1 import deployment_pb2 as _deployment_pb2
from switchyard.llm.v1 import embeddings_pb2 as _embeddings_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from switchyard.llm.v1 import images_pb2 as _images_pb2
from switchyard.llm.v1 import messages_pb2 as _messages_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionRequest(_message.Message):
    __slots__ = ("id", "chat", "chat_stream", "embed", "image", "cancel", "count_tokens", "trace_context")
    class TraceContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CHAT_FIELD_NUMBER: _ClassVar[int]
    CHAT_STREAM_FIELD_NUMBER: _ClassVar[int]
    EMBED_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    COUNT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TRACE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    id: int
    chat: ChatRequest
    chat_stream: ChatStreamRequest
    embed: EmbedRequest
    image: GenerateImageRequest
    cancel: bool
    count_tokens: CountTokensRequest
    trace_context: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[int] = ..., chat: _Optional[_Union[ChatRequest, _Mapping]] = ..., chat_stream: _Optional[_Union[ChatStreamRequest, _Mapping]] = ..., embed: _Optional[_Union[EmbedRequest, _Mapping]] = ..., image: _Optional[_Union[GenerateImageRequest, _Mapping]] = ..., cancel: _Optional[bool] = ..., count_tokens: _Optional[_Union[CountTokensRequest, _Mapping]] = ..., trace_context: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SessionResponse(_message.Message):
    __slots__ = ("id", "chat", "stream_event", "embed", "image", "failure", "count_tokens")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHAT_FIELD_NUMBER: _ClassVar[int]
    STREAM_EVENT_FIELD_NUMBER: _ClassVar[int]
    EMBED_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    COUNT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    id: int
    chat: ChatResponse
    stream_event: ChatStreamResponse
    embed: EmbedResponse
    image: GenerateImageResponse
    failure: str
    count_tokens: CountTokensResponse
    def __init__(self, id: _Optional[int] = ..., chat: _Optional[_Union[ChatResponse, _Mapping]] = ..., stream_event: _Optional[_Union[ChatStreamResponse, _Mapping]] = ..., embed: _Optional[_Union[EmbedResponse, _Mapping]] = ..., image: _Optional[_Union[GenerateImageResponse, _Mapping]] = ..., failure: _Optional[str] = ..., count_tokens: _Optional[_Union[CountTokensResponse, _Mapping]] = ...) -> None: ...

class CallStats(_message.Message):
    __slots__ = ("cost_usd", "upstream_ms", "ttft_ms", "rate_limit_headers", "provider_request_id")
    class RateLimitHeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_MS_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_HEADERS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    cost_usd: str
    upstream_ms: float
    ttft_ms: float
    rate_limit_headers: _containers.ScalarMap[str, str]
    provider_request_id: str
    def __init__(self, cost_usd: _Optional[str] = ..., upstream_ms: _Optional[float] = ..., ttft_ms: _Optional[float] = ..., rate_limit_headers: _Optional[_Mapping[str, str]] = ..., provider_request_id: _Optional[str] = ...) -> None: ...

class ChatRequest(_message.Message):
    __slots__ = ("deployment", "request", "call_id", "anthropic_messages")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    ANTHROPIC_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    request: _chat_pb2.ChatCompletionRequest
    call_id: str
    anthropic_messages: _messages_pb2.AnthropicMessagesRequest
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., request: _Optional[_Union[_chat_pb2.ChatCompletionRequest, _Mapping]] = ..., call_id: _Optional[str] = ..., anthropic_messages: _Optional[_Union[_messages_pb2.AnthropicMessagesRequest, _Mapping]] = ...) -> None: ...

class ChatResponse(_message.Message):
    __slots__ = ("completion", "error", "anthropic_message_json", "stats", "usage")
    COMPLETION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ANTHROPIC_MESSAGE_JSON_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    completion: _chat_pb2.ChatCompletion
    error: _error_pb2.Error
    anthropic_message_json: bytes
    stats: CallStats
    usage: _chat_pb2.Usage
    def __init__(self, completion: _Optional[_Union[_chat_pb2.ChatCompletion, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., anthropic_message_json: _Optional[bytes] = ..., stats: _Optional[_Union[CallStats, _Mapping]] = ..., usage: _Optional[_Union[_chat_pb2.Usage, _Mapping]] = ...) -> None: ...

class ChatStreamRequest(_message.Message):
    __slots__ = ("deployment", "request", "call_id", "anthropic_messages")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    ANTHROPIC_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    request: _chat_pb2.ChatCompletionRequest
    call_id: str
    anthropic_messages: _messages_pb2.AnthropicMessagesRequest
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., request: _Optional[_Union[_chat_pb2.ChatCompletionRequest, _Mapping]] = ..., call_id: _Optional[str] = ..., anthropic_messages: _Optional[_Union[_messages_pb2.AnthropicMessagesRequest, _Mapping]] = ...) -> None: ...

class StreamEnd(_message.Message):
    __slots__ = ("usage", "stats")
    USAGE_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    usage: _chat_pb2.Usage
    stats: CallStats
    def __init__(self, usage: _Optional[_Union[_chat_pb2.Usage, _Mapping]] = ..., stats: _Optional[_Union[CallStats, _Mapping]] = ...) -> None: ...

class ChatStreamResponse(_message.Message):
    __slots__ = ("chunk", "error", "end", "anthropic_event", "stats", "usage")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    ANTHROPIC_EVENT_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    chunk: _chat_pb2.ChatCompletionChunk
    error: _error_pb2.Error
    end: StreamEnd
    anthropic_event: _messages_pb2.AnthropicEvent
    stats: CallStats
    usage: _chat_pb2.Usage
    def __init__(self, chunk: _Optional[_Union[_chat_pb2.ChatCompletionChunk, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., end: _Optional[_Union[StreamEnd, _Mapping]] = ..., anthropic_event: _Optional[_Union[_messages_pb2.AnthropicEvent, _Mapping]] = ..., stats: _Optional[_Union[CallStats, _Mapping]] = ..., usage: _Optional[_Union[_chat_pb2.Usage, _Mapping]] = ...) -> None: ...

class EmbedRequest(_message.Message):
    __slots__ = ("deployment", "request", "call_id")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    request: _embeddings_pb2.EmbeddingRequest
    call_id: str
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., request: _Optional[_Union[_embeddings_pb2.EmbeddingRequest, _Mapping]] = ..., call_id: _Optional[str] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("embeddings", "error", "stats")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    embeddings: _embeddings_pb2.EmbeddingResponse
    error: _error_pb2.Error
    stats: CallStats
    def __init__(self, embeddings: _Optional[_Union[_embeddings_pb2.EmbeddingResponse, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., stats: _Optional[_Union[CallStats, _Mapping]] = ...) -> None: ...

class GenerateImageRequest(_message.Message):
    __slots__ = ("deployment", "request", "call_id")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    request: _images_pb2.ImageGenerationRequest
    call_id: str
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., request: _Optional[_Union[_images_pb2.ImageGenerationRequest, _Mapping]] = ..., call_id: _Optional[str] = ...) -> None: ...

class GenerateImageResponse(_message.Message):
    __slots__ = ("images", "error", "stats")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    images: _images_pb2.ImageGenerationResponse
    error: _error_pb2.Error
    stats: CallStats
    def __init__(self, images: _Optional[_Union[_images_pb2.ImageGenerationResponse, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., stats: _Optional[_Union[CallStats, _Mapping]] = ...) -> None: ...

class CountTokensRequest(_message.Message):
    __slots__ = ("deployment", "anthropic_messages", "call_id")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    ANTHROPIC_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    anthropic_messages: _messages_pb2.AnthropicMessagesRequest
    call_id: str
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., anthropic_messages: _Optional[_Union[_messages_pb2.AnthropicMessagesRequest, _Mapping]] = ..., call_id: _Optional[str] = ...) -> None: ...

class CountTokensResponse(_message.Message):
    __slots__ = ("input_tokens", "error")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    error: _error_pb2.Error
    def __init__(self, input_tokens: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
