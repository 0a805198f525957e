import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.llm.v1 import chat_pb2 as _chat_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScopeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCOPE_KIND_UNSPECIFIED: _ClassVar[ScopeKind]
    SCOPE_KIND_KEY: _ClassVar[ScopeKind]
    SCOPE_KIND_USER: _ClassVar[ScopeKind]
    SCOPE_KIND_TEAM: _ClassVar[ScopeKind]
    SCOPE_KIND_ORG: _ClassVar[ScopeKind]
    SCOPE_KIND_END_USER: _ClassVar[ScopeKind]
    SCOPE_KIND_TAG: _ClassVar[ScopeKind]
    SCOPE_KIND_ACCOUNT: _ClassVar[ScopeKind]
    SCOPE_KIND_TEAM_MEMBER: _ClassVar[ScopeKind]
    SCOPE_KIND_KEY_MODEL: _ClassVar[ScopeKind]
SCOPE_KIND_UNSPECIFIED: ScopeKind
SCOPE_KIND_KEY: ScopeKind
SCOPE_KIND_USER: ScopeKind
SCOPE_KIND_TEAM: ScopeKind
SCOPE_KIND_ORG: ScopeKind
SCOPE_KIND_END_USER: ScopeKind
SCOPE_KIND_TAG: ScopeKind
SCOPE_KIND_ACCOUNT: ScopeKind
SCOPE_KIND_TEAM_MEMBER: ScopeKind
SCOPE_KIND_KEY_MODEL: ScopeKind

class Scope(_message.Message):
    __slots__ = ("kind", "id", "limit")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    kind: ScopeKind
    id: str
    limit: _auth_pb2.SpendLimit
    def __init__(self, kind: _Optional[_Union[ScopeKind, str]] = ..., id: _Optional[str] = ..., limit: _Optional[_Union[_auth_pb2.SpendLimit, _Mapping]] = ...) -> None: ...

class ReserveRequest(_message.Message):
    __slots__ = ("account_id", "request_id", "scopes", "amount_usd", "ttl_seconds")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    request_id: str
    scopes: _containers.RepeatedCompositeFieldContainer[Scope]
    amount_usd: str
    ttl_seconds: int
    def __init__(self, account_id: _Optional[str] = ..., request_id: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[Scope, _Mapping]]] = ..., amount_usd: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class ReserveResponse(_message.Message):
    __slots__ = ("admitted", "reservation_id", "error")
    ADMITTED_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    admitted: bool
    reservation_id: str
    error: _error_pb2.Error
    def __init__(self, admitted: _Optional[bool] = ..., reservation_id: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("account_id", "reservation_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reservation_id: str
    def __init__(self, account_id: _Optional[str] = ..., reservation_id: _Optional[str] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LeaseRequest(_message.Message):
    __slots__ = ("account_id", "lease_id", "scopes", "want_usd", "need_usd", "ttl_seconds")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    WANT_USD_FIELD_NUMBER: _ClassVar[int]
    NEED_USD_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    lease_id: str
    scopes: _containers.RepeatedCompositeFieldContainer[Scope]
    want_usd: str
    need_usd: str
    ttl_seconds: int
    def __init__(self, account_id: _Optional[str] = ..., lease_id: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[Scope, _Mapping]]] = ..., want_usd: _Optional[str] = ..., need_usd: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class LeaseResponse(_message.Message):
    __slots__ = ("admitted", "granted_usd", "error")
    ADMITTED_FIELD_NUMBER: _ClassVar[int]
    GRANTED_USD_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    admitted: bool
    granted_usd: str
    error: _error_pb2.Error
    def __init__(self, admitted: _Optional[bool] = ..., granted_usd: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ReturnLeaseRequest(_message.Message):
    __slots__ = ("account_id", "lease_id", "spent_usd", "scopes")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    SPENT_USD_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    lease_id: str
    spent_usd: str
    scopes: _containers.RepeatedCompositeFieldContainer[Scope]
    def __init__(self, account_id: _Optional[str] = ..., lease_id: _Optional[str] = ..., spent_usd: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[Scope, _Mapping]]] = ...) -> None: ...

class ReturnLeaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSpendRequest(_message.Message):
    __slots__ = ("account_id", "scopes")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    scopes: _containers.RepeatedCompositeFieldContainer[Scope]
    def __init__(self, account_id: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[Scope, _Mapping]]] = ...) -> None: ...

class ScopeSpend(_message.Message):
    __slots__ = ("scope", "spend", "max_budget", "budget_reset_at")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SPEND_FIELD_NUMBER: _ClassVar[int]
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_RESET_AT_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    spend: str
    max_budget: str
    budget_reset_at: _timestamp_pb2.Timestamp
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., spend: _Optional[str] = ..., max_budget: _Optional[str] = ..., budget_reset_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSpendResponse(_message.Message):
    __slots__ = ("spends",)
    SPENDS_FIELD_NUMBER: _ClassVar[int]
    spends: _containers.RepeatedCompositeFieldContainer[ScopeSpend]
    def __init__(self, spends: _Optional[_Iterable[_Union[ScopeSpend, _Mapping]]] = ...) -> None: ...

class ListSpendLogsRequest(_message.Message):
    __slots__ = ("account_id", "all_accounts", "key_hash", "request_id", "user_id", "team_id", "start_time", "end_time", "limit", "max_bytes", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ALL_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    all_accounts: bool
    key_hash: str
    request_id: str
    user_id: str
    team_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    limit: int
    max_bytes: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., all_accounts: _Optional[bool] = ..., key_hash: _Optional[str] = ..., request_id: _Optional[str] = ..., user_id: _Optional[str] = ..., team_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., max_bytes: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SpendLog(_message.Message):
    __slots__ = ("request_id", "attempt", "event_id", "account_id", "call_type", "key_hash", "team_id", "user_id", "end_user", "model", "model_group", "deployment_id", "provider", "status", "spend", "usage", "start_time", "end_time", "tags", "trace_id", "stream", "http_status", "metadata_json")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    END_USER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SPEND_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    attempt: int
    event_id: str
    account_id: str
    call_type: str
    key_hash: str
    team_id: str
    user_id: str
    end_user: str
    model: str
    model_group: str
    deployment_id: str
    provider: str
    status: str
    spend: str
    usage: _chat_pb2.Usage
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    tags: _containers.RepeatedScalarFieldContainer[str]
    trace_id: str
    stream: bool
    http_status: int
    metadata_json: bytes
    def __init__(self, request_id: _Optional[str] = ..., attempt: _Optional[int] = ..., event_id: _Optional[str] = ..., account_id: _Optional[str] = ..., call_type: _Optional[str] = ..., key_hash: _Optional[str] = ..., team_id: _Optional[str] = ..., user_id: _Optional[str] = ..., end_user: _Optional[str] = ..., model: _Optional[str] = ..., model_group: _Optional[str] = ..., deployment_id: _Optional[str] = ..., provider: _Optional[str] = ..., status: _Optional[str] = ..., spend: _Optional[str] = ..., usage: _Optional[_Union[_chat_pb2.Usage, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., trace_id: _Optional[str] = ..., stream: _Optional[bool] = ..., http_status: _Optional[int] = ..., metadata_json: _Optional[bytes] = ...) -> None: ...

class ListSpendLogsResponse(_message.Message):
    __slots__ = ("logs", "next_page_token", "error")
    LOGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    logs: _containers.RepeatedCompositeFieldContainer[SpendLog]
    next_page_token: str
    error: _error_pb2.Error
    def __init__(self, logs: _Optional[_Iterable[_Union[SpendLog, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
