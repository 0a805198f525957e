from switchyard.llm.v1 import chat_pb2 as _chat_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageGenerationRequest(_message.Message):
    __slots__ = ("model", "prompt", "n", "size", "quality", "response_format", "style", "user", "extra_json", "options")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    prompt: str
    n: int
    size: str
    quality: str
    response_format: str
    style: str
    user: str
    extra_json: bytes
    options: _chat_pb2.RequestOptions
    def __init__(self, model: _Optional[str] = ..., prompt: _Optional[str] = ..., n: _Optional[int] = ..., size: _Optional[str] = ..., quality: _Optional[str] = ..., response_format: _Optional[str] = ..., style: _Optional[str] = ..., user: _Optional[str] = ..., extra_json: _Optional[bytes] = ..., options: _Optional[_Union[_chat_pb2.RequestOptions, _Mapping]] = ...) -> None: ...

class Image(_message.Message):
    __slots__ = ("url", "b64_json", "revised_prompt")
    URL_FIELD_NUMBER: _ClassVar[int]
    B64_JSON_FIELD_NUMBER: _ClassVar[int]
    REVISED_PROMPT_FIELD_NUMBER: _ClassVar[int]
    url: str
    b64_json: str
    revised_prompt: str
    def __init__(self, url: _Optional[str] = ..., b64_json: _Optional[str] = ..., revised_prompt: _Optional[str] = ...) -> None: ...

class ImageGenerationResponse(_message.Message):
    __slots__ = ("created", "data", "usage", "extra_json")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    created: int
    data: _containers.RepeatedCompositeFieldContainer[Image]
    usage: _chat_pb2.Usage
    extra_json: bytes
    def __init__(self, created: _Optional[int] = ..., data: _Optional[_Iterable[_Union[Image, _Mapping]]] = ..., usage: _Optional[_Union[_chat_pb2.Usage, _Mapping]] = ..., extra_json: _Optional[bytes] = ...) -> None: ...
