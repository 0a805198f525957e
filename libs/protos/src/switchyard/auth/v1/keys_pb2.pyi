import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.auth.v1 import teams_pb2 as _teams_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateKeyRequest(_message.Message):
    __slots__ = ("caller", "account_id", "settings", "key")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    settings: _auth_pb2.KeySettings
    key: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[_auth_pb2.KeySettings, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class CreateKeyResponse(_message.Message):
    __slots__ = ("key", "info", "error")
    KEY_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    key: str
    info: _auth_pb2.KeyInfo
    error: _error_pb2.Error
    def __init__(self, key: _Optional[str] = ..., info: _Optional[_Union[_auth_pb2.KeyInfo, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetKeyInfoRequest(_message.Message):
    __slots__ = ("caller", "account_id", "key")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    key: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class GetKeyInfoResponse(_message.Message):
    __slots__ = ("info", "team", "error")
    INFO_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    info: _auth_pb2.KeyInfo
    team: _teams_pb2.Team
    error: _error_pb2.Error
    def __init__(self, info: _Optional[_Union[_auth_pb2.KeyInfo, _Mapping]] = ..., team: _Optional[_Union[_teams_pb2.Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ListKeysRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_id", "team_id", "organization_id", "key_alias", "key_hash", "limit", "offset")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ALIAS_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_id: str
    team_id: str
    organization_id: str
    key_alias: str
    key_hash: str
    limit: int
    offset: int
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_id: _Optional[str] = ..., team_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., key_alias: _Optional[str] = ..., key_hash: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListKeysResponse(_message.Message):
    __slots__ = ("keys", "total_count", "error")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[_auth_pb2.KeyInfo]
    total_count: int
    error: _error_pb2.Error
    def __init__(self, keys: _Optional[_Iterable[_Union[_auth_pb2.KeyInfo, _Mapping]]] = ..., total_count: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateKeyRequest(_message.Message):
    __slots__ = ("caller", "account_id", "key", "settings", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    key: str
    settings: _auth_pb2.KeySettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., key: _Optional[str] = ..., settings: _Optional[_Union[_auth_pb2.KeySettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateKeyResponse(_message.Message):
    __slots__ = ("info", "error")
    INFO_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    info: _auth_pb2.KeyInfo
    error: _error_pb2.Error
    def __init__(self, info: _Optional[_Union[_auth_pb2.KeyInfo, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class RegenerateKeyRequest(_message.Message):
    __slots__ = ("caller", "account_id", "key", "new_key", "settings", "update_mask", "grace_period")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    NEW_KEY_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    key: str
    new_key: str
    settings: _auth_pb2.KeySettings
    update_mask: _field_mask_pb2.FieldMask
    grace_period: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., key: _Optional[str] = ..., new_key: _Optional[str] = ..., settings: _Optional[_Union[_auth_pb2.KeySettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., grace_period: _Optional[str] = ...) -> None: ...

class RegenerateKeyResponse(_message.Message):
    __slots__ = ("key", "info", "previous_key_hash", "error", "previous_key_valid_until")
    KEY_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KEY_VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    key: str
    info: _auth_pb2.KeyInfo
    previous_key_hash: str
    error: _error_pb2.Error
    previous_key_valid_until: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., info: _Optional[_Union[_auth_pb2.KeyInfo, _Mapping]] = ..., previous_key_hash: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., previous_key_valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BlockKeyRequest(_message.Message):
    __slots__ = ("caller", "account_id", "key")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    key: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class BlockKeyResponse(_message.Message):
    __slots__ = ("info", "error")
    INFO_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    info: _auth_pb2.KeyInfo
    error: _error_pb2.Error
    def __init__(self, info: _Optional[_Union[_auth_pb2.KeyInfo, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UnblockKeyRequest(_message.Message):
    __slots__ = ("caller", "account_id", "key")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    key: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class UnblockKeyResponse(_message.Message):
    __slots__ = ("info", "error")
    INFO_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    info: _auth_pb2.KeyInfo
    error: _error_pb2.Error
    def __init__(self, info: _Optional[_Union[_auth_pb2.KeyInfo, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class RemoveKeysRequest(_message.Message):
    __slots__ = ("caller", "account_id", "keys", "key_aliases")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    KEY_ALIASES_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    key_aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., key_aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveKeysResponse(_message.Message):
    __slots__ = ("deleted_key_ids", "deleted_key_hashes", "error")
    DELETED_KEY_IDS_FIELD_NUMBER: _ClassVar[int]
    DELETED_KEY_HASHES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    deleted_key_ids: _containers.RepeatedScalarFieldContainer[str]
    deleted_key_hashes: _containers.RepeatedScalarFieldContainer[str]
    error: _error_pb2.Error
    def __init__(self, deleted_key_ids: _Optional[_Iterable[str]] = ..., deleted_key_hashes: _Optional[_Iterable[str]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
