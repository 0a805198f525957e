import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from switchyard.llm.v1 import chat_pb2 as _chat_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UsageEvent(_message.Message):
    __slots__ = ("event_id", "request_id", "attempt", "account_id", "key_hash", "key_alias", "team_id", "user_id", "org_id", "end_user", "call_type", "model_group", "deployment_id", "provider", "model", "stream", "success", "error_kind", "http_status", "usage", "cost_usd", "reservation_id", "start_time", "end_time", "ttft_ms", "tags", "metadata_json", "final", "error_message", "key_id", "mock_response")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    KEY_ALIAS_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    END_USER_FIELD_NUMBER: _ClassVar[int]
    CALL_TYPE_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_KIND_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MOCK_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    request_id: str
    attempt: int
    account_id: str
    key_hash: str
    key_alias: str
    team_id: str
    user_id: str
    org_id: str
    end_user: str
    call_type: str
    model_group: str
    deployment_id: str
    provider: str
    model: str
    stream: bool
    success: bool
    error_kind: _error_pb2.ErrorKind
    http_status: int
    usage: _chat_pb2.Usage
    cost_usd: str
    reservation_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    ttft_ms: float
    tags: _containers.RepeatedScalarFieldContainer[str]
    metadata_json: bytes
    final: bool
    error_message: str
    key_id: str
    mock_response: bool
    def __init__(self, event_id: _Optional[str] = ..., request_id: _Optional[str] = ..., attempt: _Optional[int] = ..., account_id: _Optional[str] = ..., key_hash: _Optional[str] = ..., key_alias: _Optional[str] = ..., team_id: _Optional[str] = ..., user_id: _Optional[str] = ..., org_id: _Optional[str] = ..., end_user: _Optional[str] = ..., call_type: _Optional[str] = ..., model_group: _Optional[str] = ..., deployment_id: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., stream: _Optional[bool] = ..., success: _Optional[bool] = ..., error_kind: _Optional[_Union[_error_pb2.ErrorKind, str]] = ..., http_status: _Optional[int] = ..., usage: _Optional[_Union[_chat_pb2.Usage, _Mapping]] = ..., cost_usd: _Optional[str] = ..., reservation_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ttft_ms: _Optional[float] = ..., tags: _Optional[_Iterable[str]] = ..., metadata_json: _Optional[bytes] = ..., final: _Optional[bool] = ..., error_message: _Optional[str] = ..., key_id: _Optional[str] = ..., mock_response: _Optional[bool] = ...) -> None: ...
