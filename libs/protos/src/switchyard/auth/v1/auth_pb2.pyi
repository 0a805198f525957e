from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CredentialKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDENTIAL_KIND_UNSPECIFIED: _ClassVar[CredentialKind]
    CREDENTIAL_KIND_MASTER_KEY: _ClassVar[CredentialKind]
    CREDENTIAL_KIND_VIRTUAL_KEY: _ClassVar[CredentialKind]
    CREDENTIAL_KIND_SESSION: _ClassVar[CredentialKind]
    CREDENTIAL_KIND_OIDC_TOKEN: _ClassVar[CredentialKind]
CREDENTIAL_KIND_UNSPECIFIED: CredentialKind
CREDENTIAL_KIND_MASTER_KEY: CredentialKind
CREDENTIAL_KIND_VIRTUAL_KEY: CredentialKind
CREDENTIAL_KIND_SESSION: CredentialKind
CREDENTIAL_KIND_OIDC_TOKEN: CredentialKind

class AuthenticateRequest(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: str
    def __init__(self, credential: _Optional[str] = ...) -> None: ...

class RateLimits(_message.Message):
    __slots__ = ("rpm_limit", "tpm_limit", "max_parallel_requests")
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    rpm_limit: int
    tpm_limit: int
    max_parallel_requests: int
    def __init__(self, rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., max_parallel_requests: _Optional[int] = ...) -> None: ...

class SpendLimit(_message.Message):
    __slots__ = ("max_budget", "budget_duration", "version", "soft_budget")
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_DURATION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SOFT_BUDGET_FIELD_NUMBER: _ClassVar[int]
    max_budget: str
    budget_duration: str
    version: int
    soft_budget: str
    def __init__(self, max_budget: _Optional[str] = ..., budget_duration: _Optional[str] = ..., version: _Optional[int] = ..., soft_budget: _Optional[str] = ...) -> None: ...

class Principal(_message.Message):
    __slots__ = ("account_id", "key_hash", "key_alias", "team_id", "user_id", "org_id", "is_admin", "models", "limits", "has_budget", "guardrails", "metadata_json", "cache_ttl_seconds", "expires_at", "key_limit", "role", "is_super_admin", "key_id", "team_alias", "team_limit", "user_limit", "org_limit", "team_member_limit", "team_rate_limits", "user_rate_limits", "org_rate_limits", "team_member_rate_limits", "team_models", "team_model_aliases", "model_aliases", "tags", "allowed_routes", "model_max_budget", "model_rpm_limit", "model_tpm_limit", "team_role", "credential_kind", "session_id")
    class TeamModelAliasesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ModelAliasesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ModelMaxBudgetEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ModelBudget
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ModelBudget, _Mapping]] = ...) -> None: ...
    class ModelRpmLimitEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ModelTpmLimitEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    KEY_ALIAS_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    HAS_BUDGET_FIELD_NUMBER: _ClassVar[int]
    GUARDRAILS_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    CACHE_TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    KEY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    IS_SUPER_ADMIN_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ALIAS_FIELD_NUMBER: _ClassVar[int]
    TEAM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    USER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ORG_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TEAM_MEMBER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TEAM_RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    USER_RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    ORG_RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    TEAM_MEMBER_RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    TEAM_MODELS_FIELD_NUMBER: _ClassVar[int]
    TEAM_MODEL_ALIASES_FIELD_NUMBER: _ClassVar[int]
    MODEL_ALIASES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_ROUTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    MODEL_RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MODEL_TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TEAM_ROLE_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_KIND_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    key_hash: str
    key_alias: str
    team_id: str
    user_id: str
    org_id: str
    is_admin: bool
    models: _containers.RepeatedScalarFieldContainer[str]
    limits: RateLimits
    has_budget: bool
    guardrails: _containers.RepeatedScalarFieldContainer[str]
    metadata_json: bytes
    cache_ttl_seconds: int
    expires_at: int
    key_limit: SpendLimit
    role: str
    is_super_admin: bool
    key_id: str
    team_alias: str
    team_limit: SpendLimit
    user_limit: SpendLimit
    org_limit: SpendLimit
    team_member_limit: SpendLimit
    team_rate_limits: RateLimits
    user_rate_limits: RateLimits
    org_rate_limits: RateLimits
    team_member_rate_limits: RateLimits
    team_models: _containers.RepeatedScalarFieldContainer[str]
    team_model_aliases: _containers.ScalarMap[str, str]
    model_aliases: _containers.ScalarMap[str, str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    allowed_routes: _containers.RepeatedScalarFieldContainer[str]
    model_max_budget: _containers.MessageMap[str, ModelBudget]
    model_rpm_limit: _containers.ScalarMap[str, int]
    model_tpm_limit: _containers.ScalarMap[str, int]
    team_role: str
    credential_kind: CredentialKind
    session_id: str
    def __init__(self, account_id: _Optional[str] = ..., key_hash: _Optional[str] = ..., key_alias: _Optional[str] = ..., team_id: _Optional[str] = ..., user_id: _Optional[str] = ..., org_id: _Optional[str] = ..., is_admin: _Optional[bool] = ..., models: _Optional[_Iterable[str]] = ..., limits: _Optional[_Union[RateLimits, _Mapping]] = ..., has_budget: _Optional[bool] = ..., guardrails: _Optional[_Iterable[str]] = ..., metadata_json: _Optional[bytes] = ..., cache_ttl_seconds: _Optional[int] = ..., expires_at: _Optional[int] = ..., key_limit: _Optional[_Union[SpendLimit, _Mapping]] = ..., role: _Optional[str] = ..., is_super_admin: _Optional[bool] = ..., key_id: _Optional[str] = ..., team_alias: _Optional[str] = ..., team_limit: _Optional[_Union[SpendLimit, _Mapping]] = ..., user_limit: _Optional[_Union[SpendLimit, _Mapping]] = ..., org_limit: _Optional[_Union[SpendLimit, _Mapping]] = ..., team_member_limit: _Optional[_Union[SpendLimit, _Mapping]] = ..., team_rate_limits: _Optional[_Union[RateLimits, _Mapping]] = ..., user_rate_limits: _Optional[_Union[RateLimits, _Mapping]] = ..., org_rate_limits: _Optional[_Union[RateLimits, _Mapping]] = ..., team_member_rate_limits: _Optional[_Union[RateLimits, _Mapping]] = ..., team_models: _Optional[_Iterable[str]] = ..., team_model_aliases: _Optional[_Mapping[str, str]] = ..., model_aliases: _Optional[_Mapping[str, str]] = ..., tags: _Optional[_Iterable[str]] = ..., allowed_routes: _Optional[_Iterable[str]] = ..., model_max_budget: _Optional[_Mapping[str, ModelBudget]] = ..., model_rpm_limit: _Optional[_Mapping[str, int]] = ..., model_tpm_limit: _Optional[_Mapping[str, int]] = ..., team_role: _Optional[str] = ..., credential_kind: _Optional[_Union[CredentialKind, str]] = ..., session_id: _Optional[str] = ...) -> None: ...

class AuthenticateResponse(_message.Message):
    __slots__ = ("principal", "error")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    principal: Principal
    error: _error_pb2.Error
    def __init__(self, principal: _Optional[_Union[Principal, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class KeySettings(_message.Message):
    __slots__ = ("key_alias", "team_id", "user_id", "org_id", "models", "max_budget", "budget_duration", "limits", "guardrails", "metadata_json", "duration", "blocked", "tags", "aliases", "soft_budget", "allowed_routes", "model_max_budget", "budget_id", "model_rpm_limit", "model_tpm_limit", "permissions_json", "allowed_cache_controls", "object_permission_json", "key_type")
    class AliasesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ModelMaxBudgetEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ModelBudget
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ModelBudget, _Mapping]] = ...) -> None: ...
    class ModelRpmLimitEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ModelTpmLimitEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    KEY_ALIAS_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_DURATION_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    GUARDRAILS_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    SOFT_BUDGET_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_ROUTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MODEL_TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_CACHE_CONTROLS_FIELD_NUMBER: _ClassVar[int]
    OBJECT_PERMISSION_JSON_FIELD_NUMBER: _ClassVar[int]
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    key_alias: str
    team_id: str
    user_id: str
    org_id: str
    models: _containers.RepeatedScalarFieldContainer[str]
    max_budget: str
    budget_duration: str
    limits: RateLimits
    guardrails: _containers.RepeatedScalarFieldContainer[str]
    metadata_json: bytes
    duration: str
    blocked: bool
    tags: _containers.RepeatedScalarFieldContainer[str]
    aliases: _containers.ScalarMap[str, str]
    soft_budget: str
    allowed_routes: _containers.RepeatedScalarFieldContainer[str]
    model_max_budget: _containers.MessageMap[str, ModelBudget]
    budget_id: str
    model_rpm_limit: _containers.ScalarMap[str, int]
    model_tpm_limit: _containers.ScalarMap[str, int]
    permissions_json: bytes
    allowed_cache_controls: _containers.RepeatedScalarFieldContainer[str]
    object_permission_json: bytes
    key_type: str
    def __init__(self, key_alias: _Optional[str] = ..., team_id: _Optional[str] = ..., user_id: _Optional[str] = ..., org_id: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., max_budget: _Optional[str] = ..., budget_duration: _Optional[str] = ..., limits: _Optional[_Union[RateLimits, _Mapping]] = ..., guardrails: _Optional[_Iterable[str]] = ..., metadata_json: _Optional[bytes] = ..., duration: _Optional[str] = ..., blocked: _Optional[bool] = ..., tags: _Optional[_Iterable[str]] = ..., aliases: _Optional[_Mapping[str, str]] = ..., soft_budget: _Optional[str] = ..., allowed_routes: _Optional[_Iterable[str]] = ..., model_max_budget: _Optional[_Mapping[str, ModelBudget]] = ..., budget_id: _Optional[str] = ..., model_rpm_limit: _Optional[_Mapping[str, int]] = ..., model_tpm_limit: _Optional[_Mapping[str, int]] = ..., permissions_json: _Optional[bytes] = ..., allowed_cache_controls: _Optional[_Iterable[str]] = ..., object_permission_json: _Optional[bytes] = ..., key_type: _Optional[str] = ...) -> None: ...

class ModelBudget(_message.Message):
    __slots__ = ("budget_limit", "time_period")
    BUDGET_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TIME_PERIOD_FIELD_NUMBER: _ClassVar[int]
    budget_limit: str
    time_period: str
    def __init__(self, budget_limit: _Optional[str] = ..., time_period: _Optional[str] = ...) -> None: ...

class GenerateKeyRequest(_message.Message):
    __slots__ = ("caller", "settings", "key")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    settings: KeySettings
    key: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., settings: _Optional[_Union[KeySettings, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class KeyInfo(_message.Message):
    __slots__ = ("key_hash", "key_name", "account_id", "settings", "created_at", "expires_at", "spend", "key_id", "updated_at", "version", "limit", "created_by")
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SPEND_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    key_hash: str
    key_name: str
    account_id: str
    settings: KeySettings
    created_at: int
    expires_at: int
    spend: str
    key_id: str
    updated_at: int
    version: int
    limit: SpendLimit
    created_by: str
    def __init__(self, key_hash: _Optional[str] = ..., key_name: _Optional[str] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[KeySettings, _Mapping]] = ..., created_at: _Optional[int] = ..., expires_at: _Optional[int] = ..., spend: _Optional[str] = ..., key_id: _Optional[str] = ..., updated_at: _Optional[int] = ..., version: _Optional[int] = ..., limit: _Optional[_Union[SpendLimit, _Mapping]] = ..., created_by: _Optional[str] = ...) -> None: ...

class GenerateKeyResponse(_message.Message):
    __slots__ = ("key", "error", "info")
    KEY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    key: str
    error: _error_pb2.Error
    info: KeyInfo
    def __init__(self, key: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., info: _Optional[_Union[KeyInfo, _Mapping]] = ...) -> None: ...

class GetKeyRequest(_message.Message):
    __slots__ = ("caller", "key")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    key: str
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class GetKeyResponse(_message.Message):
    __slots__ = ("info", "error")
    INFO_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    info: KeyInfo
    error: _error_pb2.Error
    def __init__(self, info: _Optional[_Union[KeyInfo, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class DeleteKeysRequest(_message.Message):
    __slots__ = ("caller", "keys")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    caller: Principal
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[Principal, _Mapping]] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteKeysResponse(_message.Message):
    __slots__ = ("deleted_key_hashes", "error")
    DELETED_KEY_HASHES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    deleted_key_hashes: _containers.RepeatedScalarFieldContainer[str]
    error: _error_pb2.Error
    def __init__(self, deleted_key_hashes: _Optional[_Iterable[str]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
