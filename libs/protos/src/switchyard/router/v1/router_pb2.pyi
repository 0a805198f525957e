from switchyard.llm.v1 import deployment_pb2 as _deployment_pb2
from switchyard.llm.v1 import error_pb2 as _error_pb2
from switchyard.llm.v1 import models_pb2 as _models_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALL_TYPE_UNSPECIFIED: _ClassVar[CallType]
    CALL_TYPE_CHAT: _ClassVar[CallType]
    CALL_TYPE_EMBEDDING: _ClassVar[CallType]
    CALL_TYPE_IMAGE_GENERATION: _ClassVar[CallType]

class GroupRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_ROLE_UNSPECIFIED: _ClassVar[GroupRole]
    GROUP_ROLE_PRIMARY: _ClassVar[GroupRole]
    GROUP_ROLE_FALLBACK: _ClassVar[GroupRole]
    GROUP_ROLE_CONTEXT_WINDOW_FALLBACK: _ClassVar[GroupRole]
    GROUP_ROLE_CONTENT_POLICY_FALLBACK: _ClassVar[GroupRole]
CALL_TYPE_UNSPECIFIED: CallType
CALL_TYPE_CHAT: CallType
CALL_TYPE_EMBEDDING: CallType
CALL_TYPE_IMAGE_GENERATION: CallType
GROUP_ROLE_UNSPECIFIED: GroupRole
GROUP_ROLE_PRIMARY: GroupRole
GROUP_ROLE_FALLBACK: GroupRole
GROUP_ROLE_CONTEXT_WINDOW_FALLBACK: GroupRole
GROUP_ROLE_CONTENT_POLICY_FALLBACK: GroupRole

class PlanRequest(_message.Message):
    __slots__ = ("model", "call_type", "stream", "tags", "estimated_input_tokens", "client_fallbacks", "disable_fallbacks", "num_retries", "allowed_models", "mock_testing_fallbacks", "timeout_seconds", "team_models")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CALL_TYPE_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    DISABLE_FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    NUM_RETRIES_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    MOCK_TESTING_FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TEAM_MODELS_FIELD_NUMBER: _ClassVar[int]
    model: str
    call_type: CallType
    stream: bool
    tags: _containers.RepeatedScalarFieldContainer[str]
    estimated_input_tokens: int
    client_fallbacks: _containers.RepeatedScalarFieldContainer[str]
    disable_fallbacks: bool
    num_retries: int
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    mock_testing_fallbacks: bool
    timeout_seconds: float
    team_models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., call_type: _Optional[_Union[CallType, str]] = ..., stream: _Optional[bool] = ..., tags: _Optional[_Iterable[str]] = ..., estimated_input_tokens: _Optional[int] = ..., client_fallbacks: _Optional[_Iterable[str]] = ..., disable_fallbacks: _Optional[bool] = ..., num_retries: _Optional[int] = ..., allowed_models: _Optional[_Iterable[str]] = ..., mock_testing_fallbacks: _Optional[bool] = ..., timeout_seconds: _Optional[float] = ..., team_models: _Optional[_Iterable[str]] = ...) -> None: ...

class CandidateGroup(_message.Message):
    __slots__ = ("model_group", "role", "deployments", "admission_required", "empty_reason", "shuffle_weights", "tiers")
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    EMPTY_REASON_FIELD_NUMBER: _ClassVar[int]
    SHUFFLE_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    model_group: str
    role: GroupRole
    deployments: _containers.RepeatedCompositeFieldContainer[_deployment_pb2.Deployment]
    admission_required: bool
    empty_reason: _error_pb2.Error
    shuffle_weights: _containers.RepeatedScalarFieldContainer[float]
    tiers: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, model_group: _Optional[str] = ..., role: _Optional[_Union[GroupRole, str]] = ..., deployments: _Optional[_Iterable[_Union[_deployment_pb2.Deployment, _Mapping]]] = ..., admission_required: _Optional[bool] = ..., empty_reason: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., shuffle_weights: _Optional[_Iterable[float]] = ..., tiers: _Optional[_Iterable[int]] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("num_retries", "retries_by_kind", "retry_after_seconds")
    class RetriesByKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    NUM_RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRIES_BY_KIND_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    num_retries: int
    retries_by_kind: _containers.ScalarMap[int, int]
    retry_after_seconds: float
    def __init__(self, num_retries: _Optional[int] = ..., retries_by_kind: _Optional[_Mapping[int, int]] = ..., retry_after_seconds: _Optional[float] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ("deployment_id", "lease_id", "reserved_tokens")
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    lease_id: str
    reserved_tokens: int
    def __init__(self, deployment_id: _Optional[str] = ..., lease_id: _Optional[str] = ..., reserved_tokens: _Optional[int] = ...) -> None: ...

class PlanResponse(_message.Message):
    __slots__ = ("error", "groups", "retry_policy", "max_fallbacks", "model_group", "lease", "cache_ttl_ms")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    MAX_FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    CACHE_TTL_MS_FIELD_NUMBER: _ClassVar[int]
    error: _error_pb2.Error
    groups: _containers.RepeatedCompositeFieldContainer[CandidateGroup]
    retry_policy: RetryPolicy
    max_fallbacks: int
    model_group: str
    lease: Lease
    cache_ttl_ms: int
    def __init__(self, error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., groups: _Optional[_Iterable[_Union[CandidateGroup, _Mapping]]] = ..., retry_policy: _Optional[_Union[RetryPolicy, _Mapping]] = ..., max_fallbacks: _Optional[int] = ..., model_group: _Optional[str] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., cache_ttl_ms: _Optional[int] = ...) -> None: ...

class WatchRoutingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchRoutingResponse(_message.Message):
    __slots__ = ("generation",)
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    generation: int
    def __init__(self, generation: _Optional[int] = ...) -> None: ...

class ReportOutcomeRequest(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("deployment_id", "model_group", "success", "error_kind", "http_status", "latency_ms", "ttft_ms", "total_tokens", "retry_after_seconds", "stream", "lease_id", "reserved_tokens", "skipped")
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_KIND_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    model_group: str
    success: bool
    error_kind: _error_pb2.ErrorKind
    http_status: int
    latency_ms: float
    ttft_ms: float
    total_tokens: int
    retry_after_seconds: float
    stream: bool
    lease_id: str
    reserved_tokens: int
    skipped: bool
    def __init__(self, deployment_id: _Optional[str] = ..., model_group: _Optional[str] = ..., success: _Optional[bool] = ..., error_kind: _Optional[_Union[_error_pb2.ErrorKind, str]] = ..., http_status: _Optional[int] = ..., latency_ms: _Optional[float] = ..., ttft_ms: _Optional[float] = ..., total_tokens: _Optional[int] = ..., retry_after_seconds: _Optional[float] = ..., stream: _Optional[bool] = ..., lease_id: _Optional[str] = ..., reserved_tokens: _Optional[int] = ..., skipped: _Optional[bool] = ...) -> None: ...

class ReportOutcomeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("allowed_models",)
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, allowed_models: _Optional[_Iterable[str]] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_models_pb2.Model]
    def __init__(self, models: _Optional[_Iterable[_Union[_models_pb2.Model, _Mapping]]] = ...) -> None: ...

class AcquireRequest(_message.Message):
    __slots__ = ("deployment_id", "model_group", "estimated_input_tokens", "timeout_seconds")
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    model_group: str
    estimated_input_tokens: int
    timeout_seconds: float
    def __init__(self, deployment_id: _Optional[str] = ..., model_group: _Optional[str] = ..., estimated_input_tokens: _Optional[int] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...

class AcquireResponse(_message.Message):
    __slots__ = ("admitted", "lease", "retry_after_seconds", "reason")
    ADMITTED_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    admitted: bool
    lease: Lease
    retry_after_seconds: float
    reason: str
    def __init__(self, admitted: _Optional[bool] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., retry_after_seconds: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class ModelEntry(_message.Message):
    __slots__ = ("id", "model_name", "litellm_params_json", "model_info_json", "sealed_credentials", "credential_params", "db_model", "created_at", "updated_at", "created_by", "updated_by")
    class SealedCredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    LITELLM_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    MODEL_INFO_JSON_FIELD_NUMBER: _ClassVar[int]
    SEALED_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_PARAMS_FIELD_NUMBER: _ClassVar[int]
    DB_MODEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    model_name: str
    litellm_params_json: bytes
    model_info_json: bytes
    sealed_credentials: _containers.ScalarMap[str, bytes]
    credential_params: _containers.RepeatedScalarFieldContainer[str]
    db_model: bool
    created_at: int
    updated_at: int
    created_by: str
    updated_by: str
    def __init__(self, id: _Optional[str] = ..., model_name: _Optional[str] = ..., litellm_params_json: _Optional[bytes] = ..., model_info_json: _Optional[bytes] = ..., sealed_credentials: _Optional[_Mapping[str, bytes]] = ..., credential_params: _Optional[_Iterable[str]] = ..., db_model: _Optional[bool] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., created_by: _Optional[str] = ..., updated_by: _Optional[str] = ...) -> None: ...

class AddModelRequest(_message.Message):
    __slots__ = ("model", "caller")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    model: ModelEntry
    caller: str
    def __init__(self, model: _Optional[_Union[ModelEntry, _Mapping]] = ..., caller: _Optional[str] = ...) -> None: ...

class AddModelResponse(_message.Message):
    __slots__ = ("model", "error")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    model: ModelEntry
    error: _error_pb2.Error
    def __init__(self, model: _Optional[_Union[ModelEntry, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class UpdateModelRequest(_message.Message):
    __slots__ = ("model", "remove_credentials", "caller")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REMOVE_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    model: ModelEntry
    remove_credentials: _containers.RepeatedScalarFieldContainer[str]
    caller: str
    def __init__(self, model: _Optional[_Union[ModelEntry, _Mapping]] = ..., remove_credentials: _Optional[_Iterable[str]] = ..., caller: _Optional[str] = ...) -> None: ...

class UpdateModelResponse(_message.Message):
    __slots__ = ("model", "error")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    model: ModelEntry
    error: _error_pb2.Error
    def __init__(self, model: _Optional[_Union[ModelEntry, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class DeleteModelRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteModelResponse(_message.Message):
    __slots__ = ("model", "error")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    model: ModelEntry
    error: _error_pb2.Error
    def __init__(self, model: _Optional[_Union[ModelEntry, _Mapping]] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class GetModelInfoRequest(_message.Message):
    __slots__ = ("id", "allowed_models")
    ID_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    id: str
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., allowed_models: _Optional[_Iterable[str]] = ...) -> None: ...

class GetModelInfoResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelEntry]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelEntry, _Mapping]]] = ...) -> None: ...

class GetModelGroupInfoRequest(_message.Message):
    __slots__ = ("model_group", "allowed_models")
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    model_group: str
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model_group: _Optional[str] = ..., allowed_models: _Optional[_Iterable[str]] = ...) -> None: ...

class ModelGroupInfo(_message.Message):
    __slots__ = ("model_group", "providers", "max_input_tokens", "max_output_tokens", "input_cost_per_token", "output_cost_per_token", "mode", "tpm", "rpm", "supports_function_calling", "supports_parallel_function_calling", "supports_vision", "access_groups", "deployments", "healthy_deployments")
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    MAX_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    INPUT_COST_PER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COST_PER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TPM_FIELD_NUMBER: _ClassVar[int]
    RPM_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_FUNCTION_CALLING_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_PARALLEL_FUNCTION_CALLING_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_VISION_FIELD_NUMBER: _ClassVar[int]
    ACCESS_GROUPS_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    model_group: str
    providers: _containers.RepeatedScalarFieldContainer[str]
    max_input_tokens: int
    max_output_tokens: int
    input_cost_per_token: float
    output_cost_per_token: float
    mode: str
    tpm: int
    rpm: int
    supports_function_calling: bool
    supports_parallel_function_calling: bool
    supports_vision: bool
    access_groups: _containers.RepeatedScalarFieldContainer[str]
    deployments: int
    healthy_deployments: int
    def __init__(self, model_group: _Optional[str] = ..., providers: _Optional[_Iterable[str]] = ..., max_input_tokens: _Optional[int] = ..., max_output_tokens: _Optional[int] = ..., input_cost_per_token: _Optional[float] = ..., output_cost_per_token: _Optional[float] = ..., mode: _Optional[str] = ..., tpm: _Optional[int] = ..., rpm: _Optional[int] = ..., supports_function_calling: _Optional[bool] = ..., supports_parallel_function_calling: _Optional[bool] = ..., supports_vision: _Optional[bool] = ..., access_groups: _Optional[_Iterable[str]] = ..., deployments: _Optional[int] = ..., healthy_deployments: _Optional[int] = ...) -> None: ...

class GetModelGroupInfoResponse(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[ModelGroupInfo]
    def __init__(self, groups: _Optional[_Iterable[_Union[ModelGroupInfo, _Mapping]]] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = ("check_now", "model")
    CHECK_NOW_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    check_now: bool
    model: str
    def __init__(self, check_now: _Optional[bool] = ..., model: _Optional[str] = ...) -> None: ...

class DeploymentHealth(_message.Message):
    __slots__ = ("deployment_id", "model_group", "provider", "model", "api_base", "healthy", "error", "checked_at", "latency_ms", "cooling_down", "cooldown_remaining_seconds")
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    API_BASE_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    COOLING_DOWN_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_REMAINING_SECONDS_FIELD_NUMBER: _ClassVar[int]
    deployment_id: str
    model_group: str
    provider: str
    model: str
    api_base: str
    healthy: bool
    error: str
    checked_at: float
    latency_ms: float
    cooling_down: bool
    cooldown_remaining_seconds: float
    def __init__(self, deployment_id: _Optional[str] = ..., model_group: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., api_base: _Optional[str] = ..., healthy: _Optional[bool] = ..., error: _Optional[str] = ..., checked_at: _Optional[float] = ..., latency_ms: _Optional[float] = ..., cooling_down: _Optional[bool] = ..., cooldown_remaining_seconds: _Optional[float] = ...) -> None: ...

class GetHealthResponse(_message.Message):
    __slots__ = ("deployments", "checked")
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    deployments: _containers.RepeatedCompositeFieldContainer[DeploymentHealth]
    checked: bool
    def __init__(self, deployments: _Optional[_Iterable[_Union[DeploymentHealth, _Mapping]]] = ..., checked: _Optional[bool] = ...) -> None: ...
