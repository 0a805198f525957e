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
    __slots__ = ("model", "call_type", "stream", "tags", "estimated_input_tokens", "client_fallbacks", "disable_fallbacks", "num_retries", "allowed_models", "mock_testing_fallbacks")
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
    def __init__(self, model: _Optional[str] = ..., call_type: _Optional[_Union[CallType, str]] = ..., stream: _Optional[bool] = ..., tags: _Optional[_Iterable[str]] = ..., estimated_input_tokens: _Optional[int] = ..., client_fallbacks: _Optional[_Iterable[str]] = ..., disable_fallbacks: _Optional[bool] = ..., num_retries: _Optional[int] = ..., allowed_models: _Optional[_Iterable[str]] = ..., mock_testing_fallbacks: _Optional[bool] = ...) -> None: ...

class CandidateGroup(_message.Message):
    __slots__ = ("model_group", "role", "deployments")
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    model_group: str
    role: GroupRole
    deployments: _containers.RepeatedCompositeFieldContainer[_deployment_pb2.Deployment]
    def __init__(self, model_group: _Optional[str] = ..., role: _Optional[_Union[GroupRole, str]] = ..., deployments: _Optional[_Iterable[_Union[_deployment_pb2.Deployment, _Mapping]]] = ...) -> None: ...

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

class PlanResponse(_message.Message):
    __slots__ = ("error", "groups", "retry_policy", "max_fallbacks", "model_group")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    MAX_FALLBACKS_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    error: _error_pb2.Error
    groups: _containers.RepeatedCompositeFieldContainer[CandidateGroup]
    retry_policy: RetryPolicy
    max_fallbacks: int
    model_group: str
    def __init__(self, error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., groups: _Optional[_Iterable[_Union[CandidateGroup, _Mapping]]] = ..., retry_policy: _Optional[_Union[RetryPolicy, _Mapping]] = ..., max_fallbacks: _Optional[int] = ..., model_group: _Optional[str] = ...) -> None: ...

class ReportOutcomeRequest(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("deployment_id", "model_group", "success", "error_kind", "http_status", "latency_ms", "ttft_ms", "total_tokens", "retry_after_seconds", "stream")
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
    def __init__(self, deployment_id: _Optional[str] = ..., model_group: _Optional[str] = ..., success: _Optional[bool] = ..., error_kind: _Optional[_Union[_error_pb2.ErrorKind, str]] = ..., http_status: _Optional[int] = ..., latency_ms: _Optional[float] = ..., ttft_ms: _Optional[float] = ..., total_tokens: _Optional[int] = ..., retry_after_seconds: _Optional[float] = ..., stream: _Optional[bool] = ...) -> None: ...

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
