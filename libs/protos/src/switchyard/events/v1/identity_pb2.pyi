import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from switchyard.auth.v1 import accounts_pb2 as _accounts_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.auth.v1 import budget_objects_pb2 as _budget_objects_pb2
from switchyard.auth.v1 import customers_pb2 as _customers_pb2
from switchyard.auth.v1 import organizations_pb2 as _organizations_pb2
from switchyard.auth.v1 import teams_pb2 as _teams_pb2
from switchyard.auth.v1 import users_pb2 as _users_pb2
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

class IdentityEntity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_ENTITY_UNSPECIFIED: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_KEY: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_TEAM: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_USER: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_ORGANIZATION: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_CUSTOMER: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_BUDGET: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_ACCOUNT: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_TEAM_MEMBER: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_ORGANIZATION_MEMBER: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_ACCOUNT_ADMIN: _ClassVar[IdentityEntity]
    IDENTITY_ENTITY_SESSION: _ClassVar[IdentityEntity]
IDENTITY_ACTION_UNSPECIFIED: IdentityAction
IDENTITY_ACTION_CREATED: IdentityAction
IDENTITY_ACTION_UPDATED: IdentityAction
IDENTITY_ACTION_DELETED: IdentityAction
IDENTITY_ACTION_BLOCKED: IdentityAction
IDENTITY_ENTITY_UNSPECIFIED: IdentityEntity
IDENTITY_ENTITY_KEY: IdentityEntity
IDENTITY_ENTITY_TEAM: IdentityEntity
IDENTITY_ENTITY_USER: IdentityEntity
IDENTITY_ENTITY_ORGANIZATION: IdentityEntity
IDENTITY_ENTITY_CUSTOMER: IdentityEntity
IDENTITY_ENTITY_BUDGET: IdentityEntity
IDENTITY_ENTITY_ACCOUNT: IdentityEntity
IDENTITY_ENTITY_TEAM_MEMBER: IdentityEntity
IDENTITY_ENTITY_ORGANIZATION_MEMBER: IdentityEntity
IDENTITY_ENTITY_ACCOUNT_ADMIN: IdentityEntity
IDENTITY_ENTITY_SESSION: IdentityEntity

class IdentityEvent(_message.Message):
    __slots__ = ("event_id", "occurred_at", "account_id", "action", "key_hash", "key_settings", "settings_version", "entity", "entity_id", "key_id", "previous_key_hash", "member_user_id", "limit", "rate_limits", "team", "user", "organization", "customer", "budget", "account", "team_member", "organization_member", "account_admin", "key")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    KEY_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_VERSION_FIELD_NUMBER: _ClassVar[int]
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    MEMBER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TEAM_MEMBER_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_MEMBER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ADMIN_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    account_id: str
    action: IdentityAction
    key_hash: str
    key_settings: _auth_pb2.KeySettings
    settings_version: int
    entity: IdentityEntity
    entity_id: str
    key_id: str
    previous_key_hash: str
    member_user_id: str
    limit: _auth_pb2.SpendLimit
    rate_limits: _auth_pb2.RateLimits
    team: _teams_pb2.Team
    user: _users_pb2.User
    organization: _organizations_pb2.Organization
    customer: _customers_pb2.Customer
    budget: _budget_objects_pb2.BudgetObject
    account: _accounts_pb2.Account
    team_member: _teams_pb2.TeamMember
    organization_member: _organizations_pb2.OrganizationMember
    account_admin: _accounts_pb2.AccountAdmin
    key: _auth_pb2.KeyInfo
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., account_id: _Optional[str] = ..., action: _Optional[_Union[IdentityAction, str]] = ..., key_hash: _Optional[str] = ..., key_settings: _Optional[_Union[_auth_pb2.KeySettings, _Mapping]] = ..., settings_version: _Optional[int] = ..., entity: _Optional[_Union[IdentityEntity, str]] = ..., entity_id: _Optional[str] = ..., key_id: _Optional[str] = ..., previous_key_hash: _Optional[str] = ..., member_user_id: _Optional[str] = ..., limit: _Optional[_Union[_auth_pb2.SpendLimit, _Mapping]] = ..., rate_limits: _Optional[_Union[_auth_pb2.RateLimits, _Mapping]] = ..., team: _Optional[_Union[_teams_pb2.Team, _Mapping]] = ..., user: _Optional[_Union[_users_pb2.User, _Mapping]] = ..., organization: _Optional[_Union[_organizations_pb2.Organization, _Mapping]] = ..., customer: _Optional[_Union[_customers_pb2.Customer, _Mapping]] = ..., budget: _Optional[_Union[_budget_objects_pb2.BudgetObject, _Mapping]] = ..., account: _Optional[_Union[_accounts_pb2.Account, _Mapping]] = ..., team_member: _Optional[_Union[_teams_pb2.TeamMember, _Mapping]] = ..., organization_member: _Optional[_Union[_organizations_pb2.OrganizationMember, _Mapping]] = ..., account_admin: _Optional[_Union[_accounts_pb2.AccountAdmin, _Mapping]] = ..., key: _Optional[_Union[_auth_pb2.KeyInfo, _Mapping]] = ...) -> None: ...
