from google.protobuf import field_mask_pb2 as _field_mask_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TeamSettings(_message.Message):
    __slots__ = ("team_alias", "organization_id", "models", "model_aliases", "max_budget", "soft_budget", "budget_duration", "rpm_limit", "tpm_limit", "max_parallel_requests", "model_max_budget", "model_rpm_limit", "model_tpm_limit", "blocked", "metadata_json", "budget_id", "tags", "guardrails")
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
        value: _auth_pb2.ModelBudget
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_auth_pb2.ModelBudget, _Mapping]] = ...) -> None: ...
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
    TEAM_ALIAS_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ALIASES_FIELD_NUMBER: _ClassVar[int]
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    SOFT_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_DURATION_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    MODEL_RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MODEL_TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    GUARDRAILS_FIELD_NUMBER: _ClassVar[int]
    team_alias: str
    organization_id: str
    models: _containers.RepeatedScalarFieldContainer[str]
    model_aliases: _containers.ScalarMap[str, str]
    max_budget: str
    soft_budget: str
    budget_duration: str
    rpm_limit: int
    tpm_limit: int
    max_parallel_requests: int
    model_max_budget: _containers.MessageMap[str, _auth_pb2.ModelBudget]
    model_rpm_limit: _containers.ScalarMap[str, int]
    model_tpm_limit: _containers.ScalarMap[str, int]
    blocked: bool
    metadata_json: bytes
    budget_id: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    guardrails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, team_alias: _Optional[str] = ..., organization_id: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., model_aliases: _Optional[_Mapping[str, str]] = ..., max_budget: _Optional[str] = ..., soft_budget: _Optional[str] = ..., budget_duration: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., max_parallel_requests: _Optional[int] = ..., model_max_budget: _Optional[_Mapping[str, _auth_pb2.ModelBudget]] = ..., model_rpm_limit: _Optional[_Mapping[str, int]] = ..., model_tpm_limit: _Optional[_Mapping[str, int]] = ..., blocked: _Optional[bool] = ..., metadata_json: _Optional[bytes] = ..., budget_id: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., guardrails: _Optional[_Iterable[str]] = ...) -> None: ...

class TeamMember(_message.Message):
    __slots__ = ("team_id", "user_id", "user_email", "role", "max_budget_in_team", "budget_id", "created_at", "version", "limit")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    MAX_BUDGET_IN_TEAM_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    user_id: str
    user_email: str
    role: str
    max_budget_in_team: str
    budget_id: str
    created_at: int
    version: int
    limit: _auth_pb2.SpendLimit
    def __init__(self, team_id: _Optional[str] = ..., user_id: _Optional[str] = ..., user_email: _Optional[str] = ..., role: _Optional[str] = ..., max_budget_in_team: _Optional[str] = ..., budget_id: _Optional[str] = ..., created_at: _Optional[int] = ..., version: _Optional[int] = ..., limit: _Optional[_Union[_auth_pb2.SpendLimit, _Mapping]] = ...) -> None: ...

class Team(_message.Message):
    __slots__ = ("team_id", "account_id", "settings", "members", "created_at", "updated_at", "created_by", "version", "limit", "rate_limits")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    account_id: str
    settings: TeamSettings
    members: _containers.RepeatedCompositeFieldContainer[TeamMember]
    created_at: int
    updated_at: int
    created_by: str
    version: int
    limit: _auth_pb2.SpendLimit
    rate_limits: _auth_pb2.RateLimits
    def __init__(self, team_id: _Optional[str] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[TeamSettings, _Mapping]] = ..., members: _Optional[_Iterable[_Union[TeamMember, _Mapping]]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., created_by: _Optional[str] = ..., version: _Optional[int] = ..., limit: _Optional[_Union[_auth_pb2.SpendLimit, _Mapping]] = ..., rate_limits: _Optional[_Union[_auth_pb2.RateLimits, _Mapping]] = ...) -> None: ...

class CreateTeamRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id", "settings", "members")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    settings: TeamSettings
    members: _containers.RepeatedCompositeFieldContainer[TeamMember]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ..., settings: _Optional[_Union[TeamSettings, _Mapping]] = ..., members: _Optional[_Iterable[_Union[TeamMember, _Mapping]]] = ...) -> None: ...

class CreateTeamResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetTeamRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class GetTeamResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ListTeamsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "organization_id", "user_id", "team_alias", "limit", "offset")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ALIAS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    organization_id: str
    user_id: str
    team_alias: str
    limit: int
    offset: int
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., user_id: _Optional[str] = ..., team_alias: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListTeamsResponse(_message.Message):
    __slots__ = ("teams", "total_count", "error")
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    teams: _containers.RepeatedCompositeFieldContainer[Team]
    total_count: int
    error: _error_pb2.Error
    def __init__(self, teams: _Optional[_Iterable[_Union[Team, _Mapping]]] = ..., total_count: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateTeamRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id", "settings", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    settings: TeamSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ..., settings: _Optional[_Union[TeamSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateTeamResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class DeleteTeamsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_ids")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_IDS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteTeamsResponse(_message.Message):
    __slots__ = ("deleted_team_ids", "deleted_keys", "error")
    DELETED_TEAM_IDS_FIELD_NUMBER: _ClassVar[int]
    DELETED_KEYS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    deleted_team_ids: _containers.RepeatedScalarFieldContainer[str]
    deleted_keys: int
    error: _error_pb2.Error
    def __init__(self, deleted_team_ids: _Optional[_Iterable[str]] = ..., deleted_keys: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class AddTeamMembersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id", "members")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    members: _containers.RepeatedCompositeFieldContainer[TeamMember]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[TeamMember, _Mapping]]] = ...) -> None: ...

class AddTeamMembersResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateTeamMemberRequest(_message.Message):
    __slots__ = ("caller", "account_id", "member", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    member: TeamMember
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., member: _Optional[_Union[TeamMember, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateTeamMemberResponse(_message.Message):
    __slots__ = ("member", "error")
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    member: TeamMember
    error: _error_pb2.Error
    def __init__(self, member: _Optional[_Union[TeamMember, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class RemoveTeamMembersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id", "user_ids", "user_emails")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_EMAILS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    user_emails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ..., user_emails: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveTeamMembersResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class AddTeamModelsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id", "models")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ...) -> None: ...

class AddTeamModelsResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class RemoveTeamModelsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id", "models")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveTeamModelsResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class BlockTeamRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class BlockTeamResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UnblockTeamRequest(_message.Message):
    __slots__ = ("caller", "account_id", "team_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    team_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class UnblockTeamResponse(_message.Message):
    __slots__ = ("team", "error")
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    team: Team
    error: _error_pb2.Error
    def __init__(self, team: _Optional[_Union[Team, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
