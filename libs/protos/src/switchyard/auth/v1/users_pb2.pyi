from google.protobuf import field_mask_pb2 as _field_mask_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.auth.v1 import teams_pb2 as _teams_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserSettings(_message.Message):
    __slots__ = ("user_email", "user_alias", "user_role", "organization_id", "models", "max_budget", "soft_budget", "budget_duration", "rpm_limit", "tpm_limit", "max_parallel_requests", "model_max_budget", "metadata_json", "blocked", "budget_id", "sso_user_id")
    class ModelMaxBudgetEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _auth_pb2.ModelBudget
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_auth_pb2.ModelBudget, _Mapping]] = ...) -> None: ...
    USER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    USER_ALIAS_FIELD_NUMBER: _ClassVar[int]
    USER_ROLE_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    SOFT_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_DURATION_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    SSO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_email: str
    user_alias: str
    user_role: str
    organization_id: str
    models: _containers.RepeatedScalarFieldContainer[str]
    max_budget: str
    soft_budget: str
    budget_duration: str
    rpm_limit: int
    tpm_limit: int
    max_parallel_requests: int
    model_max_budget: _containers.MessageMap[str, _auth_pb2.ModelBudget]
    metadata_json: bytes
    blocked: bool
    budget_id: str
    sso_user_id: str
    def __init__(self, user_email: _Optional[str] = ..., user_alias: _Optional[str] = ..., user_role: _Optional[str] = ..., organization_id: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., max_budget: _Optional[str] = ..., soft_budget: _Optional[str] = ..., budget_duration: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., max_parallel_requests: _Optional[int] = ..., model_max_budget: _Optional[_Mapping[str, _auth_pb2.ModelBudget]] = ..., metadata_json: _Optional[bytes] = ..., blocked: _Optional[bool] = ..., budget_id: _Optional[str] = ..., sso_user_id: _Optional[str] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("user_id", "account_id", "settings", "memberships", "created_at", "updated_at", "created_by", "version", "limit", "rate_limits")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    account_id: str
    settings: UserSettings
    memberships: _containers.RepeatedCompositeFieldContainer[_teams_pb2.TeamMember]
    created_at: int
    updated_at: int
    created_by: str
    version: int
    limit: _auth_pb2.SpendLimit
    rate_limits: _auth_pb2.RateLimits
    def __init__(self, user_id: _Optional[str] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[UserSettings, _Mapping]] = ..., memberships: _Optional[_Iterable[_Union[_teams_pb2.TeamMember, _Mapping]]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., created_by: _Optional[str] = ..., version: _Optional[int] = ..., limit: _Optional[_Union[_auth_pb2.SpendLimit, _Mapping]] = ..., rate_limits: _Optional[_Union[_auth_pb2.RateLimits, _Mapping]] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_id", "settings", "teams", "create_key", "key_settings")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    CREATE_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_id: str
    settings: UserSettings
    teams: _containers.RepeatedScalarFieldContainer[str]
    create_key: bool
    key_settings: _auth_pb2.KeySettings
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_id: _Optional[str] = ..., settings: _Optional[_Union[UserSettings, _Mapping]] = ..., teams: _Optional[_Iterable[str]] = ..., create_key: _Optional[bool] = ..., key_settings: _Optional[_Union[_auth_pb2.KeySettings, _Mapping]] = ...) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ("user", "key", "key_info", "error")
    USER_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_INFO_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    user: User
    key: str
    key_info: _auth_pb2.KeyInfo
    error: _error_pb2.Error
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., key: _Optional[str] = ..., key_info: _Optional[_Union[_auth_pb2.KeyInfo, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class GetUserResponse(_message.Message):
    __slots__ = ("user", "error")
    USER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    user: User
    error: _error_pb2.Error
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_role", "team_id", "organization_id", "user_email", "user_ids", "limit", "offset")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ROLE_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_role: str
    team_id: str
    organization_id: str
    user_email: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    offset: int
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_role: _Optional[str] = ..., team_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., user_email: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users", "total_count", "error")
    USERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    total_count: int
    error: _error_pb2.Error
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ..., total_count: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateUserRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_id", "settings", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_id: str
    settings: UserSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_id: _Optional[str] = ..., settings: _Optional[_Union[UserSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateUserResponse(_message.Message):
    __slots__ = ("user", "error")
    USER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    user: User
    error: _error_pb2.Error
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class DeleteUsersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_ids")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteUsersResponse(_message.Message):
    __slots__ = ("deleted_user_ids", "deleted_keys", "error")
    DELETED_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    DELETED_KEYS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    deleted_user_ids: _containers.RepeatedScalarFieldContainer[str]
    deleted_keys: int
    error: _error_pb2.Error
    def __init__(self, deleted_user_ids: _Optional[_Iterable[str]] = ..., deleted_keys: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
