from switchyard.llm.v1 import chat_pb2 as _chat_pb2
from switchyard.llm.v1 import embeddings_pb2 as _embeddings_pb2
from switchyard.llm.v1 import messages_pb2 as _messages_pb2
from switchyard.llm.v1 import models_pb2 as _models_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallInfo(_message.Message):
    __slots__ = ("call_id", "response_cost", "model_group", "deployment_id", "overhead_ms", "attempted_retries", "attempted_fallbacks")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_COST_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    OVERHEAD_MS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTED_RETRIES_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTED_FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    response_cost: str
    model_group: str
    deployment_id: str
    overhead_ms: float
    attempted_retries: int
    attempted_fallbacks: int
    def __init__(self, call_id: _Optional[str] = ..., response_cost: _Optional[str] = ..., model_group: _Optional[str] = ..., deployment_id: _Optional[str] = ..., overhead_ms: _Optional[float] = ..., attempted_retries: _Optional[int] = ..., attempted_fallbacks: _Optional[int] = ...) -> None: ...

class CreateChatCompletionRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _chat_pb2.ChatCompletionRequest
    def __init__(self, request: _Optional[_Union[_chat_pb2.ChatCompletionRequest, _Mapping]] = ...) -> None: ...

class CreateChatCompletionResponse(_message.Message):
    __slots__ = ("completion", "info")
    COMPLETION_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    completion: _chat_pb2.ChatCompletion
    info: CallInfo
    def __init__(self, completion: _Optional[_Union[_chat_pb2.ChatCompletion, _Mapping]] = ..., info: _Optional[_Union[CallInfo, _Mapping]] = ...) -> None: ...

class StreamChatCompletionRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _chat_pb2.ChatCompletionRequest
    def __init__(self, request: _Optional[_Union[_chat_pb2.ChatCompletionRequest, _Mapping]] = ...) -> None: ...

class StreamChatCompletionResponse(_message.Message):
    __slots__ = ("chunk", "info")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    chunk: _chat_pb2.ChatCompletionChunk
    info: CallInfo
    def __init__(self, chunk: _Optional[_Union[_chat_pb2.ChatCompletionChunk, _Mapping]] = ..., info: _Optional[_Union[CallInfo, _Mapping]] = ...) -> None: ...

class CreateEmbeddingRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _embeddings_pb2.EmbeddingRequest
    def __init__(self, request: _Optional[_Union[_embeddings_pb2.EmbeddingRequest, _Mapping]] = ...) -> None: ...

class CreateEmbeddingResponse(_message.Message):
    __slots__ = ("embeddings", "info")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    embeddings: _embeddings_pb2.EmbeddingResponse
    info: CallInfo
    def __init__(self, embeddings: _Optional[_Union[_embeddings_pb2.EmbeddingResponse, _Mapping]] = ..., info: _Optional[_Union[CallInfo, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_models_pb2.Model]
    def __init__(self, models: _Optional[_Iterable[_Union[_models_pb2.Model, _Mapping]]] = ...) -> None: ...

class CreateMessageRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _messages_pb2.AnthropicMessagesRequest
    def __init__(self, request: _Optional[_Union[_messages_pb2.AnthropicMessagesRequest, _Mapping]] = ...) -> None: ...

class CreateMessageResponse(_message.Message):
    __slots__ = ("message_json", "info")
    MESSAGE_JSON_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    message_json: bytes
    info: CallInfo
    def __init__(self, message_json: _Optional[bytes] = ..., info: _Optional[_Union[CallInfo, _Mapping]] = ...) -> None: ...

class StreamMessageRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _messages_pb2.AnthropicMessagesRequest
    def __init__(self, request: _Optional[_Union[_messages_pb2.AnthropicMessagesRequest, _Mapping]] = ...) -> None: ...

class StreamMessageResponse(_message.Message):
    __slots__ = ("event", "info")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    event: _messages_pb2.AnthropicEvent
    info: CallInfo
    def __init__(self, event: _Optional[_Union[_messages_pb2.AnthropicEvent, _Mapping]] = ..., info: _Optional[_Union[CallInfo, _Mapping]] = ...) -> None: ...

class CountMessageTokensRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _messages_pb2.AnthropicMessagesRequest
    def __init__(self, request: _Optional[_Union[_messages_pb2.AnthropicMessagesRequest, _Mapping]] = ...) -> None: ...

class CountMessageTokensResponse(_message.Message):
    __slots__ = ("input_tokens",)
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    def __init__(self, input_tokens: _Optional[int] = ...) -> None: ...
