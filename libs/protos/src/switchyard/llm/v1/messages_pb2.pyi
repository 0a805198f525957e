from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class AnthropicMessagesRequest(_message.Message):
    __slots__ = ("body_json", "beta")
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    body_json: bytes
    beta: str
    def __init__(self, body_json: _Optional[bytes] = ..., beta: _Optional[str] = ...) -> None: ...

class AnthropicEvent(_message.Message):
    __slots__ = ("type", "data_json", "output_chars")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_CHARS_FIELD_NUMBER: _ClassVar[int]
    type: str
    data_json: bytes
    output_chars: int
    def __init__(self, type: _Optional[str] = ..., data_json: _Optional[bytes] = ..., output_chars: _Optional[int] = ...) -> None: ...
