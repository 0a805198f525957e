from google.protobuf import field_mask_pb2 as _field_mask_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Entitlements(_message.Message):
    __slots__ = ("max_keys", "max_teams", "max_models", "max_budget", "features")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bool
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bool] = ...) -> None: ...
    MAX_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_TEAMS_FIELD_NUMBER: _ClassVar[int]
    MAX_MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    max_keys: int
    max_teams: int
    max_models: int
    max_budget: str
    features: _containers.ScalarMap[str, bool]
    def __init__(self, max_keys: _Optional[int] = ..., max_teams: _Optional[int] = ..., max_models: _Optional[int] = ..., max_budget: _Optional[str] = ..., features: _Optional[_Mapping[str, bool]] = ...) -> None: ...

class AccountSettings(_message.Message):
    __slots__ = ("account_name", "account_alias", "domain", "status", "metadata_json")
    ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ALIAS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    account_name: str
    account_alias: str
    domain: str
    status: str
    metadata_json: bytes
    def __init__(self, account_name: _Optional[str] = ..., account_alias: _Optional[str] = ..., domain: _Optional[str] = ..., status: _Optional[str] = ..., metadata_json: _Optional[bytes] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("account_id", "settings", "entitlements", "created_at", "updated_at", "created_by", "version")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    settings: AccountSettings
    entitlements: Entitlements
    created_at: int
    updated_at: int
    created_by: str
    version: int
    def __init__(self, account_id: _Optional[str] = ..., settings: _Optional[_Union[AccountSettings, _Mapping]] = ..., entitlements: _Optional[_Union[Entitlements, _Mapping]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., created_by: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class AccountAdmin(_message.Message):
    __slots__ = ("account_id", "user_email", "role", "created_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    user_email: str
    role: str
    created_at: int
    def __init__(self, account_id: _Optional[str] = ..., user_email: _Optional[str] = ..., role: _Optional[str] = ..., created_at: _Optional[int] = ...) -> None: ...

class CreateAccountRequest(_message.Message):
    __slots__ = ("caller", "account_id", "settings", "entitlements")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    settings: AccountSettings
    entitlements: Entitlements
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[AccountSettings, _Mapping]] = ..., entitlements: _Optional[_Union[Entitlements, _Mapping]] = ...) -> None: ...

class CreateAccountResponse(_message.Message):
    __slots__ = ("account", "error")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    account: Account
    error: _error_pb2.Error
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("caller", "account_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account", "error")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    account: Account
    error: _error_pb2.Error
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ("caller", "status", "limit", "offset")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    status: str
    limit: int
    offset: int
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., status: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListAccountsResponse(_message.Message):
    __slots__ = ("accounts", "total_count", "error")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    total_count: int
    error: _error_pb2.Error
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ..., total_count: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateAccountRequest(_message.Message):
    __slots__ = ("caller", "account_id", "settings", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    settings: AccountSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[AccountSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateAccountResponse(_message.Message):
    __slots__ = ("account", "error")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    account: Account
    error: _error_pb2.Error
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class DeleteAccountRequest(_message.Message):
    __slots__ = ("caller", "account_id", "confirm")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    confirm: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., confirm: _Optional[str] = ...) -> None: ...

class DeleteAccountResponse(_message.Message):
    __slots__ = ("account", "deleted_keys", "archived_users", "archived_teams", "archived_organizations", "error")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    DELETED_KEYS_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_USERS_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_TEAMS_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_ORGANIZATIONS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    account: Account
    deleted_keys: int
    archived_users: int
    archived_teams: int
    archived_organizations: int
    error: _error_pb2.Error
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., deleted_keys: _Optional[int] = ..., archived_users: _Optional[int] = ..., archived_teams: _Optional[int] = ..., archived_organizations: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetEntitlementsRequest(_message.Message):
    __slots__ = ("caller", "account_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ...) -> None: ...

class GetEntitlementsResponse(_message.Message):
    __slots__ = ("account_id", "entitlements", "error")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    entitlements: Entitlements
    error: _error_pb2.Error
    def __init__(self, account_id: _Optional[str] = ..., entitlements: _Optional[_Union[Entitlements, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateEntitlementsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "entitlements", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    entitlements: Entitlements
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., entitlements: _Optional[_Union[Entitlements, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateEntitlementsResponse(_message.Message):
    __slots__ = ("account_id", "entitlements", "error")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITLEMENTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    entitlements: Entitlements
    error: _error_pb2.Error
    def __init__(self, account_id: _Optional[str] = ..., entitlements: _Optional[_Union[Entitlements, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class AddAccountAdminRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_email", "role")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_email: str
    role: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_email: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class AddAccountAdminResponse(_message.Message):
    __slots__ = ("admin", "error")
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    admin: AccountAdmin
    error: _error_pb2.Error
    def __init__(self, admin: _Optional[_Union[AccountAdmin, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateAccountAdminRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_email", "role")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_email: str
    role: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_email: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class UpdateAccountAdminResponse(_message.Message):
    __slots__ = ("admin", "error")
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    admin: AccountAdmin
    error: _error_pb2.Error
    def __init__(self, admin: _Optional[_Union[AccountAdmin, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class RemoveAccountAdminRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_email")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_email: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_email: _Optional[str] = ...) -> None: ...

class RemoveAccountAdminResponse(_message.Message):
    __slots__ = ("admin", "error")
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    admin: AccountAdmin
    error: _error_pb2.Error
    def __init__(self, admin: _Optional[_Union[AccountAdmin, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ListAccountAdminsRequest(_message.Message):
    __slots__ = ("caller", "account_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ...) -> None: ...

class ListAccountAdminsResponse(_message.Message):
    __slots__ = ("admins", "error")
    ADMINS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    admins: _containers.RepeatedCompositeFieldContainer[AccountAdmin]
    error: _error_pb2.Error
    def __init__(self, admins: _Optional[_Iterable[_Union[AccountAdmin, _Mapping]]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
