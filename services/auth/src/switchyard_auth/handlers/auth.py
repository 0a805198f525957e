"""gRPC AuthService: credentials → principals; key management."""

from __future__ import annotations

import logging
import time
import uuid
from typing import NoReturn

import asyncpg
import grpc
from google.protobuf import timestamp_pb2

from switchyard.auth.v1 import auth_pb2, auth_pb2_grpc
from switchyard.events.v1 import identity_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_auth.clients.repository import Repository
from switchyard_auth.domain import keys
from switchyard_common.kafka import EventProducer
from switchyard_llm.errors import make_error

log = logging.getLogger(__name__)

_STORE_ERRORS = (asyncpg.PostgresError, OSError, TimeoutError, asyncpg.InterfaceError)


async def _store_down(context: grpc.aio.ServicerContext) -> NoReturn:
    """A key store that does not answer fails the call (switchyard/llm/v1/error.proto)."""
    await context.abort(grpc.StatusCode.UNAVAILABLE, "the key store is unavailable; try again shortly")


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(
        self,
        repo: Repository,
        producer: EventProducer,
        *,
        master_key: str,
        default_account: str,
        cache_ttl: int,
        identity_topic: str,
    ) -> None:
        self._repo = repo
        self._producer = producer
        self._master = master_key
        self._default_account = default_account
        self._ttl = cache_ttl
        self._topic = identity_topic

    def _admin(self) -> auth_pb2.Principal:
        return auth_pb2.Principal(
            account_id=self._default_account, is_admin=True, key_alias="master_key", cache_ttl_seconds=self._ttl
        )

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AuthenticateResponse:
        cred = request.credential.strip()
        if not cred:
            return auth_pb2.AuthenticateResponse(
                error=make_error(ErrorKind.ERROR_KIND_AUTHENTICATION, "No api key passed in.")
            )
        if keys.same_secret(cred, self._master):
            return auth_pb2.AuthenticateResponse(principal=self._admin())
        key_hash = keys.hash_key(cred)
        try:
            row = await self._repo.key_by_hash(key_hash)
        except _STORE_ERRORS:
            log.warning("key lookup failed", exc_info=True)
            await _store_down(context)
        if row is None:
            return auth_pb2.AuthenticateResponse(
                error=make_error(
                    ErrorKind.ERROR_KIND_AUTHENTICATION,
                    f"Authentication Error: invalid API key (hashed token ending {key_hash[-8:]}).",
                )
            )
        if row["blocked"]:
            return auth_pb2.AuthenticateResponse(
                error=make_error(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this key is blocked.")
            )
        if row["expires_at"] is not None and row["expires_at"].timestamp() < time.time():
            return auth_pb2.AuthenticateResponse(
                error=make_error(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this key has expired.")
            )
        return auth_pb2.AuthenticateResponse(principal=keys.principal_from_row(dict(row), self._ttl))

    def _account_of(self, caller: auth_pb2.Principal) -> str:
        return caller.account_id or self._default_account

    def _key_info(self, row: asyncpg.Record) -> auth_pb2.KeyInfo:
        info = auth_pb2.KeyInfo(
            key_hash=row["key_hash"],
            key_name=row["key_name"],
            account_id=row["account_id"],
            settings=keys.settings_from_row(dict(row)),
            created_at=int(row["created_at"].timestamp()),
        )
        if row["expires_at"] is not None:
            info.expires_at = int(row["expires_at"].timestamp())
        return info

    def _publish(
        self,
        account_id: str,
        action: identity_pb2.IdentityAction,
        key_hash: str,
        version: int,
        settings: auth_pb2.KeySettings | None = None,
    ) -> None:
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        event = identity_pb2.IdentityEvent(
            event_id=str(uuid.uuid4()),
            occurred_at=now,
            account_id=account_id,
            action=action,
            key_hash=key_hash,
            settings_version=version,
        )
        if settings is not None:
            event.key_settings.CopyFrom(settings)
        from switchyard_common.telemetry import inject_headers

        self._producer.publish(
            self._topic, event.SerializeToString(), key=account_id.encode(), headers=inject_headers()
        )

    async def GenerateKey(
        self, request: auth_pb2.GenerateKeyRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.GenerateKeyResponse:
        if not request.caller.is_admin:
            return auth_pb2.GenerateKeyResponse(
                error=make_error(ErrorKind.ERROR_KIND_PERMISSION_DENIED, "only admins can create keys")
            )
        try:
            keys.validate_settings(request.settings)
            expires = keys.expires_at(request.settings)
        except keys.KeyError_ as exc:
            return auth_pb2.GenerateKeyResponse(
                error=make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param)
            )
        key = request.key or keys.new_key()
        if not key.startswith(keys.KEY_PREFIX):
            return auth_pb2.GenerateKeyResponse(
                error=make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, "keys must start with 'sk-'", param="key")
            )
        account = self._account_of(request.caller)
        try:
            await self._repo.ensure_account(account)
            row = await self._repo.insert_key(
                account, keys.hash_key(key), keys.display_name(key), request.settings, expires
            )
        except asyncpg.UniqueViolationError:
            return auth_pb2.GenerateKeyResponse(
                error=make_error(
                    ErrorKind.ERROR_KIND_BAD_REQUEST, "a key with this value or alias already exists", param="key_alias"
                )
            )
        except _STORE_ERRORS:
            log.warning("key insert failed", exc_info=True)
            await _store_down(context)
        info = self._key_info(row)
        self._publish(
            account, identity_pb2.IDENTITY_ACTION_CREATED, info.key_hash, row["settings_version"], info.settings
        )
        log.info("key created", extra={"account_id": account, "key_name": info.key_name})
        return auth_pb2.GenerateKeyResponse(key=key, info=info)

    async def GetKey(
        self, request: auth_pb2.GetKeyRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.GetKeyResponse:
        key_hash = request.key if keys.is_hash(request.key) else keys.hash_key(request.key)
        caller = request.caller
        if not caller.is_admin and key_hash != caller.key_hash:
            return auth_pb2.GetKeyResponse(
                error=make_error(ErrorKind.ERROR_KIND_PERMISSION_DENIED, "a key can only read its own settings")
            )
        try:
            row = await self._repo.get_key(self._account_of(caller), key_hash)
        except _STORE_ERRORS:
            await _store_down(context)
        if row is None:
            return auth_pb2.GetKeyResponse(
                error=make_error(ErrorKind.ERROR_KIND_NOT_FOUND, "key not found", param="key")
            )
        return auth_pb2.GetKeyResponse(info=self._key_info(row))

    async def DeleteKeys(
        self, request: auth_pb2.DeleteKeysRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.DeleteKeysResponse:
        if not request.caller.is_admin:
            return auth_pb2.DeleteKeysResponse(
                error=make_error(ErrorKind.ERROR_KIND_PERMISSION_DENIED, "only admins can delete keys")
            )
        hashes = [k if keys.is_hash(k) else keys.hash_key(k) for k in request.keys]
        try:
            rows = await self._repo.delete_keys(self._account_of(request.caller), hashes)
        except _STORE_ERRORS:
            await _store_down(context)
        for row in rows:
            self._publish(
                row["account_id"], identity_pb2.IDENTITY_ACTION_DELETED, row["key_hash"], row["settings_version"]
            )
        return auth_pb2.DeleteKeysResponse(deleted_key_hashes=[r["key_hash"] for r in rows])
