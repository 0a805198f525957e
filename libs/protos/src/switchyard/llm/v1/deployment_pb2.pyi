from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Deployment(_message.Message):
    __slots__ = ("id", "model_group", "provider", "model", "api_base", "timeout_seconds", "stream_timeout_seconds", "drop_params", "params_json", "pricing", "max_input_tokens", "max_output_tokens", "sealed_credentials", "supported_endpoints", "wildcard_origin")
    class SealedCredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    API_BASE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STREAM_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DROP_PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PRICING_FIELD_NUMBER: _ClassVar[int]
    MAX_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SEALED_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    WILDCARD_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    id: str
    model_group: str
    provider: str
    model: str
    api_base: str
    timeout_seconds: float
    stream_timeout_seconds: float
    drop_params: bool
    params_json: bytes
    pricing: Pricing
    max_input_tokens: int
    max_output_tokens: int
    sealed_credentials: _containers.ScalarMap[str, bytes]
    supported_endpoints: _containers.RepeatedScalarFieldContainer[str]
    wildcard_origin: WildcardOrigin
    def __init__(self, id: _Optional[str] = ..., model_group: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., api_base: _Optional[str] = ..., timeout_seconds: _Optional[float] = ..., stream_timeout_seconds: _Optional[float] = ..., drop_params: _Optional[bool] = ..., params_json: _Optional[bytes] = ..., pricing: _Optional[_Union[Pricing, _Mapping]] = ..., max_input_tokens: _Optional[int] = ..., max_output_tokens: _Optional[int] = ..., sealed_credentials: _Optional[_Mapping[str, bytes]] = ..., supported_endpoints: _Optional[_Iterable[str]] = ..., wildcard_origin: _Optional[_Union[WildcardOrigin, _Mapping]] = ...) -> None: ...

class WildcardOrigin(_message.Message):
    __slots__ = ("id", "provider", "model")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    id: str
    provider: str
    model: str
    def __init__(self, id: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class Pricing(_message.Message):
    __slots__ = ("base_model", "input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost", "cache_creation_input_token_cost", "output_cost_per_reasoning_token", "input_cost_per_second", "output_cost_per_second", "admission_input_cost_per_token", "admission_output_cost_per_token", "admission_price_unknown", "output_cost_per_image", "input_cost_per_pixel")
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_COST_PER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COST_PER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_INPUT_TOKEN_COST_FIELD_NUMBER: _ClassVar[int]
    CACHE_CREATION_INPUT_TOKEN_COST_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COST_PER_REASONING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INPUT_COST_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COST_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_INPUT_COST_PER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_OUTPUT_COST_PER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_PRICE_UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COST_PER_IMAGE_FIELD_NUMBER: _ClassVar[int]
    INPUT_COST_PER_PIXEL_FIELD_NUMBER: _ClassVar[int]
    base_model: str
    input_cost_per_token: float
    output_cost_per_token: float
    cache_read_input_token_cost: float
    cache_creation_input_token_cost: float
    output_cost_per_reasoning_token: float
    input_cost_per_second: float
    output_cost_per_second: float
    admission_input_cost_per_token: float
    admission_output_cost_per_token: float
    admission_price_unknown: bool
    output_cost_per_image: float
    input_cost_per_pixel: float
    def __init__(self, base_model: _Optional[str] = ..., input_cost_per_token: _Optional[float] = ..., output_cost_per_token: _Optional[float] = ..., cache_read_input_token_cost: _Optional[float] = ..., cache_creation_input_token_cost: _Optional[float] = ..., output_cost_per_reasoning_token: _Optional[float] = ..., input_cost_per_second: _Optional[float] = ..., output_cost_per_second: _Optional[float] = ..., admission_input_cost_per_token: _Optional[float] = ..., admission_output_cost_per_token: _Optional[float] = ..., admission_price_unknown: _Optional[bool] = ..., output_cost_per_image: _Optional[float] = ..., input_cost_per_pixel: _Optional[float] = ...) -> None: ...
