import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdentityAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_ACTION_UNSPECIFIED: _ClassVar[IdentityAction]
    IDENTITY_ACTION_CREATED: _ClassVar[IdentityAction]
    IDENTITY_ACTION_UPDATED: _ClassVar[IdentityAction]
    IDENTITY_ACTION_DELETED: _ClassVar[IdentityAction]
    IDENTITY_ACTION_BLOCKED: _ClassVar[IdentityAction]
IDENTITY_ACTION_UNSPECIFIED: IdentityAction
IDENTITY_ACTION_CREATED: IdentityAction
IDENTITY_ACTION_UPDATED: IdentityAction
IDENTITY_ACTION_DELETED: IdentityAction
IDENTITY_ACTION_BLOCKED: IdentityAction

class IdentityEvent(_message.Message):
    __slots__ = ("event_id", "occurred_at", "account_id", "action", "key_hash", "key_settings", "settings_version")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    KEY_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_VERSION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    account_id: str
    action: IdentityAction
    key_hash: str
    key_settings: _auth_pb2.KeySettings
    settings_version: int
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., account_id: _Optional[str] = ..., action: _Optional[_Union[IdentityAction, str]] = ..., key_hash: _Optional[str] = ..., key_settings: _Optional[_Union[_auth_pb2.KeySettings, _Mapping]] = ..., settings_version: _Optional[int] = ...) -> None: ...
