from google.protobuf import field_mask_pb2 as _field_mask_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomerSettings(_message.Message):
    __slots__ = ("alias", "blocked", "max_budget", "soft_budget", "budget_duration", "rpm_limit", "tpm_limit", "max_parallel_requests", "model_max_budget", "budget_id", "default_model", "allowed_model_region", "metadata_json")
    class ModelMaxBudgetEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _auth_pb2.ModelBudget
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_auth_pb2.ModelBudget, _Mapping]] = ...) -> None: ...
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    SOFT_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_DURATION_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MODEL_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODEL_REGION_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    alias: str
    blocked: bool
    max_budget: str
    soft_budget: str
    budget_duration: str
    rpm_limit: int
    tpm_limit: int
    max_parallel_requests: int
    model_max_budget: _containers.MessageMap[str, _auth_pb2.ModelBudget]
    budget_id: str
    default_model: str
    allowed_model_region: str
    metadata_json: bytes
    def __init__(self, alias: _Optional[str] = ..., blocked: _Optional[bool] = ..., max_budget: _Optional[str] = ..., soft_budget: _Optional[str] = ..., budget_duration: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., max_parallel_requests: _Optional[int] = ..., model_max_budget: _Optional[_Mapping[str, _auth_pb2.ModelBudget]] = ..., budget_id: _Optional[str] = ..., default_model: _Optional[str] = ..., allowed_model_region: _Optional[str] = ..., metadata_json: _Optional[bytes] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("user_id", "account_id", "settings", "created_at", "updated_at", "created_by", "version", "limit", "rate_limits")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    account_id: str
    settings: CustomerSettings
    created_at: int
    updated_at: int
    created_by: str
    version: int
    limit: _auth_pb2.SpendLimit
    rate_limits: _auth_pb2.RateLimits
    def __init__(self, user_id: _Optional[str] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[CustomerSettings, _Mapping]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., created_by: _Optional[str] = ..., version: _Optional[int] = ..., limit: _Optional[_Union[_auth_pb2.SpendLimit, _Mapping]] = ..., rate_limits: _Optional[_Union[_auth_pb2.RateLimits, _Mapping]] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_id", "settings")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_id: str
    settings: CustomerSettings
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_id: _Optional[str] = ..., settings: _Optional[_Union[CustomerSettings, _Mapping]] = ...) -> None: ...

class CreateCustomerResponse(_message.Message):
    __slots__ = ("customer", "error")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    error: _error_pb2.Error
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class GetCustomerResponse(_message.Message):
    __slots__ = ("customer", "error")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    error: _error_pb2.Error
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "budget_id", "limit", "offset")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    budget_id: str
    limit: int
    offset: int
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., budget_id: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "total_count", "error")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    total_count: int
    error: _error_pb2.Error
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., total_count: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateCustomerRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_id", "settings", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_id: str
    settings: CustomerSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_id: _Optional[str] = ..., settings: _Optional[_Union[CustomerSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateCustomerResponse(_message.Message):
    __slots__ = ("customer", "error")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    error: _error_pb2.Error
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class DeleteCustomersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_ids")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteCustomersResponse(_message.Message):
    __slots__ = ("deleted_user_ids", "error")
    DELETED_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    deleted_user_ids: _containers.RepeatedScalarFieldContainer[str]
    error: _error_pb2.Error
    def __init__(self, deleted_user_ids: _Optional[_Iterable[str]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class BlockCustomersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_ids")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BlockCustomersResponse(_message.Message):
    __slots__ = ("customers", "error")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    error: _error_pb2.Error
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UnblockCustomersRequest(_message.Message):
    __slots__ = ("caller", "account_id", "user_ids")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class UnblockCustomersResponse(_message.Message):
    __slots__ = ("customers", "error")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    error: _error_pb2.Error
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
