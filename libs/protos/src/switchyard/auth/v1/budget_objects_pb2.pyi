from google.protobuf import field_mask_pb2 as _field_mask_pb2
from switchyard.auth.v1 import auth_pb2 as _auth_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BudgetObjectSettings(_message.Message):
    __slots__ = ("max_budget", "soft_budget", "budget_duration", "rpm_limit", "tpm_limit", "max_parallel_requests", "model_max_budget")
    class ModelMaxBudgetEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _auth_pb2.ModelBudget
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_auth_pb2.ModelBudget, _Mapping]] = ...) -> None: ...
    MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    SOFT_BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_DURATION_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_BUDGET_FIELD_NUMBER: _ClassVar[int]
    max_budget: str
    soft_budget: str
    budget_duration: str
    rpm_limit: int
    tpm_limit: int
    max_parallel_requests: int
    model_max_budget: _containers.MessageMap[str, _auth_pb2.ModelBudget]
    def __init__(self, max_budget: _Optional[str] = ..., soft_budget: _Optional[str] = ..., budget_duration: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., max_parallel_requests: _Optional[int] = ..., model_max_budget: _Optional[_Mapping[str, _auth_pb2.ModelBudget]] = ...) -> None: ...

class BudgetObject(_message.Message):
    __slots__ = ("budget_id", "account_id", "settings", "created_at", "updated_at", "created_by", "version")
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    budget_id: str
    account_id: str
    settings: BudgetObjectSettings
    created_at: int
    updated_at: int
    created_by: str
    version: int
    def __init__(self, budget_id: _Optional[str] = ..., account_id: _Optional[str] = ..., settings: _Optional[_Union[BudgetObjectSettings, _Mapping]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., created_by: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class CreateBudgetRequest(_message.Message):
    __slots__ = ("caller", "account_id", "budget_id", "settings")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    budget_id: str
    settings: BudgetObjectSettings
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., budget_id: _Optional[str] = ..., settings: _Optional[_Union[BudgetObjectSettings, _Mapping]] = ...) -> None: ...

class CreateBudgetResponse(_message.Message):
    __slots__ = ("budget", "error")
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    budget: BudgetObject
    error: _error_pb2.Error
    def __init__(self, budget: _Optional[_Union[BudgetObject, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetBudgetRequest(_message.Message):
    __slots__ = ("caller", "account_id", "budget_id")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    budget_id: str
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., budget_id: _Optional[str] = ...) -> None: ...

class GetBudgetResponse(_message.Message):
    __slots__ = ("budget", "error")
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    budget: BudgetObject
    error: _error_pb2.Error
    def __init__(self, budget: _Optional[_Union[BudgetObject, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class ListBudgetsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "limit", "offset")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    limit: int
    offset: int
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListBudgetsResponse(_message.Message):
    __slots__ = ("budgets", "total_count", "error")
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    budgets: _containers.RepeatedCompositeFieldContainer[BudgetObject]
    total_count: int
    error: _error_pb2.Error
    def __init__(self, budgets: _Optional[_Iterable[_Union[BudgetObject, _Mapping]]] = ..., total_count: _Optional[int] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateBudgetRequest(_message.Message):
    __slots__ = ("caller", "account_id", "budget_id", "settings", "update_mask")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    budget_id: str
    settings: BudgetObjectSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., budget_id: _Optional[str] = ..., settings: _Optional[_Union[BudgetObjectSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateBudgetResponse(_message.Message):
    __slots__ = ("budget", "error")
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    budget: BudgetObject
    error: _error_pb2.Error
    def __init__(self, budget: _Optional[_Union[BudgetObject, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class DeleteBudgetsRequest(_message.Message):
    __slots__ = ("caller", "account_id", "budget_ids")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BUDGET_IDS_FIELD_NUMBER: _ClassVar[int]
    caller: _auth_pb2.Principal
    account_id: str
    budget_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, caller: _Optional[_Union[_auth_pb2.Principal, _Mapping]] = ..., account_id: _Optional[str] = ..., budget_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteBudgetsResponse(_message.Message):
    __slots__ = ("deleted_budget_ids", "error")
    DELETED_BUDGET_IDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    deleted_budget_ids: _containers.RepeatedScalarFieldContainer[str]
    error: _error_pb2.Error
    def __init__(self, deleted_budget_ids: _Optional[_Iterable[str]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...
