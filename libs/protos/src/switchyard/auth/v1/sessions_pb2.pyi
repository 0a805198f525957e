from switchyard.llm.v1 import error_pb2 as _error_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetJwksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetJwksResponse(_message.Message):
    __slots__ = ("jwks_json",)
    JWKS_JSON_FIELD_NUMBER: _ClassVar[int]
    jwks_json: bytes
    def __init__(self, jwks_json: _Optional[bytes] = ...) -> None: ...

class BeginLoginRequest(_message.Message):
    __slots__ = ("redirect_uri", "return_to")
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    RETURN_TO_FIELD_NUMBER: _ClassVar[int]
    redirect_uri: str
    return_to: str
    def __init__(self, redirect_uri: _Optional[str] = ..., return_to: _Optional[str] = ...) -> None: ...

class BeginLoginResponse(_message.Message):
    __slots__ = ("authorization_url", "error", "state")
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    authorization_url: str
    error: _error_pb2.Error
    state: str
    def __init__(self, authorization_url: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., state: _Optional[str] = ...) -> None: ...

class CompleteLoginRequest(_message.Message):
    __slots__ = ("state", "code", "browser_state", "redirect_uri", "issuer_error")
    STATE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    BROWSER_STATE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ERROR_FIELD_NUMBER: _ClassVar[int]
    state: str
    code: str
    browser_state: str
    redirect_uri: str
    issuer_error: str
    def __init__(self, state: _Optional[str] = ..., code: _Optional[str] = ..., browser_state: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., issuer_error: _Optional[str] = ...) -> None: ...

class CompleteLoginResponse(_message.Message):
    __slots__ = ("session_token", "error", "expires_at", "return_to")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    RETURN_TO_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    error: _error_pb2.Error
    expires_at: int
    return_to: str
    def __init__(self, session_token: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., expires_at: _Optional[int] = ..., return_to: _Optional[str] = ...) -> None: ...

class LogoutRequest(_message.Message):
    __slots__ = ("credential", "post_logout_redirect_uri")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    POST_LOGOUT_REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    credential: str
    post_logout_redirect_uri: str
    def __init__(self, credential: _Optional[str] = ..., post_logout_redirect_uri: _Optional[str] = ...) -> None: ...

class LogoutResponse(_message.Message):
    __slots__ = ("end_session_url", "error")
    END_SESSION_URL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    end_session_url: str
    error: _error_pb2.Error
    def __init__(self, end_session_url: _Optional[str] = ..., error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ...) -> None: ...

class HandleProviderEventRequest(_message.Message):
    __slots__ = ("body", "signature")
    BODY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    signature: str
    def __init__(self, body: _Optional[bytes] = ..., signature: _Optional[str] = ...) -> None: ...

class HandleProviderEventResponse(_message.Message):
    __slots__ = ("error", "users_blocked")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    USERS_BLOCKED_FIELD_NUMBER: _ClassVar[int]
    error: _error_pb2.Error
    users_blocked: int
    def __init__(self, error: _Optional[_Union[_error_pb2.Error, _Mapping]] = ..., users_blocked: _Optional[int] = ...) -> None: ...
