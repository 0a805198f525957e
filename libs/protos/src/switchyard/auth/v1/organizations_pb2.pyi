from google.protobuf import field_mask_pb2 as _field_mask_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrganizationSettings(_message.Message):
    __slots__ = ("organization_alias", "models", "max_budget", "soft_budget", "budget_duration", "rpm_limit", "tpm_limit", "max_parallel_requests", "model_max_budget", "metadata_json", "budget_id", "blocked")
    class ModelMaxBudgetEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _auth_pb2.ModelBudget
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_auth_pb2.ModelBudget, _Mapping]] = ...) -> None: ...
    ORGANIZATION_ALIAS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    SOFT_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_DURATION_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    organization_alias: str
    models: _containers.RepeatedScalarFieldContainer[str]
    max_budget: str
    soft_budget: str
    budget_duration: str
    rpm_limit: int
    tpm_limit: int
    max_parallel_requests: int
    model_max_budget: _containers.MessageMap[str, _auth_pb2.ModelBudget]
    metadata_json: bytes
    budget_id: str
    blocked: bool
    def __init__(self, organization_alias: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., max_budget: _Optional[str] = ..., soft_budget: _Optional[str] = ..., budget_duration: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., max_parallel_requests: _Optional[int] = ..., model_max_budget: _Optional[_Mapping[str, _auth_pb2.ModelBudget]] = ..., metadata_json: _Optional[bytes] = ..., budget_id: _Optional[str] = ..., blocked: _Optional[bool] = ...) -> None: ...

class OrganizationMember(_message.Message):
    __slots__ = ("organization_id", "user_id", "user_email", "user_role", "budget_id", "created_at")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    USER_ROLE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    user_id: str
    user_email: str
    user_role: str
    budget_id: str
    created_at: int
    def __init__(self, organization_id: _Optional[str] = ..., user_id: _Optional[str] = ..., user_email: _Optional[str] = ..., user_role: _Optional[str] = ..., budget_id: _Optional[str] = ..., created_at: _Optional[int] = ...) -> None: ...

class Organization(_message.Message):
    __slots__ = ("organization_id", "account_id", "settings", "members", "teams", "created_at", "updated_at", "created_by", "version", "limit", "rate_limits")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    account_id: str
    settings: OrganizationSettings
    members: _containers.RepeatedCompositeFieldContainer[OrganizationMember]
    teams: _containers.RepeatedScalarFieldContainer[str]
    created_at: int
    updated_at: int
    created_by: str
    version: int
    limit: _auth_pb2.SpendLimit
    rate_limits: _auth_pb2.RateLimits
    def __init__(self, organization_id: _Optional[str] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[OrganizationSettings, _Mapping]] = ..., members: _Optional[_Iterable[_Union[OrganizationMember, _Mapping]]] = ..., teams: _Optional[_Iterable[str]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., created_by: _Optional[str] = ..., version: _Optional[int] = ..., limit: _Optional[_Union[_auth_pb2.SpendLimit, _Mapping]] = ..., rate_limits: _Optional[_Union[_auth_pb2.RateLimits, _Mapping]] = ...) -> None: ...

class CreateOrganizationRequest(_message.Message):
    __slots__ = ("caller", "account_id", "organization_id", "settings")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    organization_id: str
    settings: OrganizationSettings
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., settings: _Optional[_Union[OrganizationSettings, _Mapping]] = ...) -> None: ...

class CreateOrganizationResponse(_message.Message):
    __slots__ = ("organization", "error")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    error: _error_pb2.Error
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetOrganizationRequest(_message.Message):
    __slots__ = ("caller", "account_id", "organization_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    organization_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., organization_id: _Optional[str] = ...) -> None: ...

class GetOrganizationResponse(_message.Message):
    __slots__ = ("organization", "error")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    error: _error_pb2.Error
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ListOrganizationsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "organization_alias", "limit", "offset")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ALIAS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    organization_alias: str
    limit: int
    offset: int
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., organization_alias: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListOrganizationsResponse(_message.Message):
    __slots__ = ("organizations", "total_count", "error")
    ORGANIZATIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    organizations: _containers.RepeatedCompositeFieldContainer[Organization]
    total_count: int
    error: _error_pb2.Error
    def __init__(self, organizations: _Optional[_Iterable[_Union[Organization, _Mapping]]] = ..., total_count: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateOrganizationRequest(_message.Message):
    __slots__ = ("caller", "account_id", "organization_id", "settings", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    organization_id: str
    settings: OrganizationSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., settings: _Optional[_Union[OrganizationSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateOrganizationResponse(_message.Message):
    __slots__ = ("organization", "error")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    error: _error_pb2.Error
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class DeleteOrganizationsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "organization_ids")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_IDS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    organization_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., organization_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteOrganizationsResponse(_message.Message):
    __slots__ = ("deleted_organization_ids", "error")
    DELETED_ORGANIZATION_IDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    deleted_organization_ids: _containers.RepeatedScalarFieldContainer[str]
    error: _error_pb2.Error
    def __init__(self, deleted_organization_ids: _Optional[_Iterable[str]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class AddOrganizationMembersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "organization_id", "members")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    organization_id: str
    members: _containers.RepeatedCompositeFieldContainer[OrganizationMember]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[OrganizationMember, _Mapping]]] = ...) -> None: ...

class AddOrganizationMembersResponse(_message.Message):
    __slots__ = ("organization", "error")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    error: _error_pb2.Error
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateOrganizationMemberRequest(_message.Message):
    __slots__ = ("caller", "account_id", "member")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    member: OrganizationMember
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., member: _Optional[_Union[OrganizationMember, _Mapping]] = ...) -> None: ...

class UpdateOrganizationMemberResponse(_message.Message):
    __slots__ = ("member", "error")
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    member: OrganizationMember
    error: _error_pb2.Error
    def __init__(self, member: _Optional[_Union[OrganizationMember, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class RemoveOrganizationMembersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "organization_id", "user_ids", "user_emails")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_EMAILS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    organization_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    user_emails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ..., user_emails: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveOrganizationMembersResponse(_message.Message):
    __slots__ = ("organization", "error")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    organization: Organization
    error: _error_pb2.Error
    def __init__(self, organization: _Optional[_Union[Organization, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
