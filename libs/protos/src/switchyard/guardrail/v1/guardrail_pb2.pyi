from switchyard.llm.v1 import chat_pb2 as _chat_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_INPUT: _ClassVar[Direction]
    DIRECTION_OUTPUT: _ClassVar[Direction]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_ALLOW: _ClassVar[Decision]
    DECISION_MASK: _ClassVar[Decision]
    DECISION_BLOCK: _ClassVar[Decision]
DIRECTION_UNSPECIFIED: Direction
DIRECTION_INPUT: Direction
DIRECTION_OUTPUT: Direction
DECISION_UNSPECIFIED: Decision
DECISION_ALLOW: Decision
DECISION_MASK: Decision
DECISION_BLOCK: Decision

class Finding(_message.Message):
    __slots__ = ("guardrail", "category", "action")
    GUARDRAIL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    guardrail: str
    category: str
    action: Decision
    def __init__(self, guardrail: _Optional[str] = ..., category: _Optional[str] = ..., action: _Optional[_Union[Decision, str]] = ...) -> None: ...

class CheckInputRequest(_message.Message):
    __slots__ = ("account_id", "request_id", "guardrails", "messages")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GUARDRAILS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    request_id: str
    guardrails: _containers.RepeatedScalarFieldContainer[str]
    messages: _containers.RepeatedCompositeFieldContainer[_chat_pb2.ChatMessage]
    def __init__(self, account_id: _Optional[str] = ..., request_id: _Optional[str] = ..., guardrails: _Optional[_Iterable[str]] = ..., messages: _Optional[_Iterable[_Union[_chat_pb2.ChatMessage, _Mapping]]] = ...) -> None: ...

class CheckInputResponse(_message.Message):
    __slots__ = ("decision", "messages", "findings", "reason", "error")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    messages: _containers.RepeatedCompositeFieldContainer[_chat_pb2.ChatMessage]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    reason: str
    error: _error_pb2.Error
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., messages: _Optional[_Iterable[_Union[_chat_pb2.ChatMessage, _Mapping]]] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., reason: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class CheckOutputRequest(_message.Message):
    __slots__ = ("account_id", "request_id", "guardrails", "text")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GUARDRAILS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    request_id: str
    guardrails: _containers.RepeatedScalarFieldContainer[str]
    text: str
    def __init__(self, account_id: _Optional[str] = ..., request_id: _Optional[str] = ..., guardrails: _Optional[_Iterable[str]] = ..., text: _Optional[str] = ...) -> None: ...

class CheckOutputResponse(_message.Message):
    __slots__ = ("decision", "text", "findings", "reason", "error")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    text: str
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    reason: str
    error: _error_pb2.Error
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., text: _Optional[str] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., reason: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class CheckTextsRequest(_message.Message):
    __slots__ = ("account_id", "request_id", "guardrails", "direction", "texts", "json_texts")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GUARDRAILS_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    JSON_TEXTS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    request_id: str
    guardrails: _containers.RepeatedScalarFieldContainer[str]
    direction: Direction
    texts: _containers.RepeatedScalarFieldContainer[str]
    json_texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, account_id: _Optional[str] = ..., request_id: _Optional[str] = ..., guardrails: _Optional[_Iterable[str]] = ..., direction: _Optional[_Union[Direction, str]] = ..., texts: _Optional[_Iterable[str]] = ..., json_texts: _Optional[_Iterable[str]] = ...) -> None: ...

class CheckTextsResponse(_message.Message):
    __slots__ = ("decision", "texts", "json_texts", "findings", "reason", "error")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    JSON_TEXTS_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    texts: _containers.RepeatedScalarFieldContainer[str]
    json_texts: _containers.RepeatedScalarFieldContainer[str]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    reason: str
    error: _error_pb2.Error
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., texts: _Optional[_Iterable[str]] = ..., json_texts: _Optional[_Iterable[str]] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., reason: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class StreamSegment(_message.Message):
    __slots__ = ("key", "text", "final", "json")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    text: str
    final: bool
    json: bool
    def __init__(self, key: _Optional[str] = ..., text: _Optional[str] = ..., final: _Optional[bool] = ..., json: _Optional[bool] = ...) -> None: ...

class CheckStreamRequest(_message.Message):
    __slots__ = ("account_id", "request_id", "guardrails", "segments")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GUARDRAILS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    request_id: str
    guardrails: _containers.RepeatedScalarFieldContainer[str]
    segments: _containers.RepeatedCompositeFieldContainer[StreamSegment]
    def __init__(self, account_id: _Optional[str] = ..., request_id: _Optional[str] = ..., guardrails: _Optional[_Iterable[str]] = ..., segments: _Optional[_Iterable[_Union[StreamSegment, _Mapping]]] = ...) -> None: ...

class StreamRelease(_message.Message):
    __slots__ = ("key", "text", "consumed")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONSUMED_FIELD_NUMBER: _ClassVar[int]
    key: str
    text: str
    consumed: int
    def __init__(self, key: _Optional[str] = ..., text: _Optional[str] = ..., consumed: _Optional[int] = ...) -> None: ...

class CheckStreamResponse(_message.Message):
    __slots__ = ("decision", "releases", "findings", "reason", "error")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    RELEASES_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    releases: _containers.RepeatedCompositeFieldContainer[StreamRelease]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    reason: str
    error: _error_pb2.Error
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., releases: _Optional[_Iterable[_Union[StreamRelease, _Mapping]]] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., reason: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
