from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_KIND_UNSPECIFIED: _ClassVar[ErrorKind]
    ERROR_KIND_BAD_REQUEST: _ClassVar[ErrorKind]
    ERROR_KIND_CONTEXT_WINDOW_EXCEEDED: _ClassVar[ErrorKind]
    ERROR_KIND_CONTENT_POLICY_VIOLATION: _ClassVar[ErrorKind]
    ERROR_KIND_UNSUPPORTED_PARAMS: _ClassVar[ErrorKind]
    ERROR_KIND_AUTHENTICATION: _ClassVar[ErrorKind]
    ERROR_KIND_PERMISSION_DENIED: _ClassVar[ErrorKind]
    ERROR_KIND_NOT_FOUND: _ClassVar[ErrorKind]
    ERROR_KIND_TIMEOUT: _ClassVar[ErrorKind]
    ERROR_KIND_UNPROCESSABLE: _ClassVar[ErrorKind]
    ERROR_KIND_RATE_LIMIT: _ClassVar[ErrorKind]
    ERROR_KIND_INTERNAL_SERVER: _ClassVar[ErrorKind]
    ERROR_KIND_BAD_GATEWAY: _ClassVar[ErrorKind]
    ERROR_KIND_SERVICE_UNAVAILABLE: _ClassVar[ErrorKind]
    ERROR_KIND_API_CONNECTION: _ClassVar[ErrorKind]
    ERROR_KIND_BUDGET_EXCEEDED: _ClassVar[ErrorKind]
    ERROR_KIND_NO_DEPLOYMENTS: _ClassVar[ErrorKind]
    ERROR_KIND_GUARDRAIL_BLOCKED: _ClassVar[ErrorKind]

class FailureSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAILURE_SOURCE_UNSPECIFIED: _ClassVar[FailureSource]
    FAILURE_SOURCE_PROVIDER: _ClassVar[FailureSource]
    FAILURE_SOURCE_REQUEST: _ClassVar[FailureSource]
ERROR_KIND_UNSPECIFIED: ErrorKind
ERROR_KIND_BAD_REQUEST: ErrorKind
ERROR_KIND_CONTEXT_WINDOW_EXCEEDED: ErrorKind
ERROR_KIND_CONTENT_POLICY_VIOLATION: ErrorKind
ERROR_KIND_UNSUPPORTED_PARAMS: ErrorKind
ERROR_KIND_AUTHENTICATION: ErrorKind
ERROR_KIND_PERMISSION_DENIED: ErrorKind
ERROR_KIND_NOT_FOUND: ErrorKind
ERROR_KIND_TIMEOUT: ErrorKind
ERROR_KIND_UNPROCESSABLE: ErrorKind
ERROR_KIND_RATE_LIMIT: ErrorKind
ERROR_KIND_INTERNAL_SERVER: ErrorKind
ERROR_KIND_BAD_GATEWAY: ErrorKind
ERROR_KIND_SERVICE_UNAVAILABLE: ErrorKind
ERROR_KIND_API_CONNECTION: ErrorKind
ERROR_KIND_BUDGET_EXCEEDED: ErrorKind
ERROR_KIND_NO_DEPLOYMENTS: ErrorKind
ERROR_KIND_GUARDRAIL_BLOCKED: ErrorKind
FAILURE_SOURCE_UNSPECIFIED: FailureSource
FAILURE_SOURCE_PROVIDER: FailureSource
FAILURE_SOURCE_REQUEST: FailureSource

class Error(_message.Message):
    __slots__ = ("kind", "http_status", "message", "type", "param", "code", "retry_after_seconds", "provider", "provider_details_json", "source")
    KIND_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAM_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    kind: ErrorKind
    http_status: int
    message: str
    type: str
    param: str
    code: str
    retry_after_seconds: float
    provider: str
    provider_details_json: bytes
    source: FailureSource
    def __init__(self, kind: _Optional[_Union[ErrorKind, str]] = ..., http_status: _Optional[int] = ..., message: _Optional[str] = ..., type: _Optional[str] = ..., param: _Optional[str] = ..., code: _Optional[str] = ..., retry_after_seconds: _Optional[float] = ..., provider: _Optional[str] = ..., provider_details_json: _Optional[bytes] = ..., source: _Optional[_Union[FailureSource, str]] = ...) -> None: ...
