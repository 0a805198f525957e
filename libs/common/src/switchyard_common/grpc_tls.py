"""Mutual TLS between the services: certificates read from mounted files (a Kubernetes Secret,
e.g. issued by cert-manager) and picked up again when the files change, without a restart.

Servers use gRPC's dynamic server credentials: gRPC asks for the configuration at every new
handshake, and gets a new one once the files changed. Clients cannot swap the certificate of an
open channel, so ``ReloadingChannel`` opens a new channel when the files change and lets the old
one finish its calls (see ``RETIRE_GRACE_SECONDS``).

A service's identity is the URI SAN ``spiffe://<trust domain>/<service>`` of its certificate;
``switchyard_common.callers`` says which identities may call which RPCs."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

log = logging.getLogger(__name__)

# How often a client looks at its certificate files (a stat of three files, on a call).
CHECK_SECONDS = 10.0
# Calls already on a channel whose certificate was replaced may finish for this long: as long as
# a server lets a connection drain after its maximum age (grpc_server.py).
RETIRE_GRACE_SECONDS = 900.0


class TlsError(RuntimeError):
    """A certificate file is missing, unreadable or does not match the others (the message names
    the file, never its content)."""


@dataclass(frozen=True)
class Pem:
    """One consistent set: the certificate chain, its private key and the CA bundle."""

    cert: bytes
    key: bytes
    ca: bytes


Stamp = tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class TlsFiles:
    """Where a service's certificate, key and CA bundle are mounted, and the SPIFFE trust domain
    of the identities in the certificates."""

    cert_file: Path
    key_file: Path
    ca_file: Path
    trust_domain: str = "switchyard"

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        return (self.cert_file, self.key_file, self.ca_file)

    def stamp(self) -> Stamp:
        """What changes when a file is replaced: Kubernetes swaps a symlink to new files, an
        operator may rewrite in place; both change the inode, the mtime or the size."""
        out = []
        for path in self.paths:
            st = os.stat(path)
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def read(self) -> Pem:
        """The three files, checked: PEM that parses, and a key that belongs to the certificate
        (a rotation that has written one file but not yet the other is refused, not served).

        Checked with the standard library's ssl (loaded by asyncio anyway), not ``cryptography``,
        which would add about 9 MB to each service that does not use it otherwise."""
        try:
            before = self.stamp()
        except OSError as exc:
            raise TlsError(f"cannot read {exc.filename}: {exc.strerror}") from None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        except ssl.SSLError as exc:
            raise TlsError(
                f"{self.cert_file} and {self.key_file} are not a certificate and its key ({exc.reason})"
            ) from None
        try:
            ctx.load_verify_locations(cafile=self.ca_file)
        except ssl.SSLError as exc:
            raise TlsError(f"{self.ca_file}: not a PEM certificate bundle ({exc.reason})") from None
        try:
            cert, key, ca = (path.read_bytes() for path in self.paths)
            changed = self.stamp() != before
        except OSError as exc:
            raise TlsError(f"cannot read {exc.filename}: {exc.strerror}") from None
        if changed:
            raise TlsError(f"{self.cert_file.parent}: files changed while being read")
        return Pem(cert=cert, key=key, ca=ca)


def identity_of(context: grpc.aio.ServicerContext[Any, Any], prefix: str) -> str | None:
    """The calling service's name from its certificate's URI SAN ``<prefix><service>``, or None.

    ``peer_identities`` is the SAN list (a tenth of the cost of ``auth_context()``); the key check
    keeps a certificate without SANs, whose common name gRPC would report instead, from passing."""
    names = context.peer_identities()
    if not names or context.peer_identity_key() != "x509_subject_alternative_name":
        return None
    found = None
    for raw in names:
        name = raw.decode("utf-8", "replace")
        if name.startswith(prefix):
            if found is not None:
                return None  # two identities in one certificate: trust neither
            found = name[len(prefix) :]
    return found if found and "/" not in found else None


class ServerCertificates:
    """Server credentials that require a client certificate signed by the CA bundle and follow
    the files: gRPC calls ``fetch`` on each new handshake (from its own threads)."""

    def __init__(self, files: TlsFiles) -> None:
        self._files = files
        self._lock = threading.Lock()
        self._stamp = files.stamp()
        self._pem = files.read()

    def _config(self, pem: Pem) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration([(pem.key, pem.cert)], pem.ca)

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(
            self._config(self._pem),
            self.fetch,  # type: ignore[arg-type]  # None is gRPC's "no change" (the stubs omit it)
            require_client_authentication=True,
        )

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """A new configuration when the files changed and are consistent; None keeps the current."""
        with self._lock:
            try:
                stamp = self._files.stamp()
                if stamp == self._stamp:
                    return None
                pem = self._files.read()
            except (OSError, TlsError) as exc:
                log.warning("server certificate not reloaded; keeping the current one", extra={"reason": str(exc)})
                return None
            self._stamp = stamp
            if pem == self._pem:
                return None
            self._pem = pem
        log.info("server certificate reloaded", extra={"cert_file": str(self._files.cert_file)})
        # A failure here would fail the handshake that asked; gRPC keeps the old config on None.
        return self._config(pem)


class _Rebinding:
    """One RPC method of a stub, bound to whichever channel is current at each call."""

    __slots__ = ("_args", "_bound", "_call", "_kind", "_owner")

    def __init__(self, owner: ReloadingChannel, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._owner = owner
        self._kind = kind
        self._args = (args, kwargs)
        self._bound: grpc.aio.Channel | None = None
        self._call: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        channel = self._owner.current()
        if channel is not self._bound:
            self._call = getattr(channel, self._kind)(*self._args[0], **self._args[1])
            self._bound = channel
        return self._call(*args, **kwargs)


class ReloadingChannel(grpc.aio.Channel):
    """A secure channel presenting the service's client certificate, reopened when the files
    change. Stubs built on it call through the newest channel; calls in flight on an older one
    finish there (it is closed after ``retire_grace`` seconds)."""

    def __init__(
        self,
        target: str,
        files: TlsFiles,
        options: Sequence[tuple[str, Any]],
        *,
        check_seconds: float = CHECK_SECONDS,
        retire_grace: float = RETIRE_GRACE_SECONDS,
    ) -> None:
        self._target = target
        self._files = files
        self._options = list(options)
        self._check = check_seconds
        self._grace = retire_grace
        self._stamp = files.stamp()
        self._pem = files.read()
        self._channel = self._open(self._pem)
        self._next_check = time.monotonic() + check_seconds
        # Channels replaced by a newer certificate, each closing after the grace.
        self._retired: dict[asyncio.Task[None], grpc.aio.Channel] = {}

    def _open(self, pem: Pem) -> grpc.aio.Channel:
        creds = grpc.ssl_channel_credentials(root_certificates=pem.ca, private_key=pem.key, certificate_chain=pem.cert)
        return grpc.aio.secure_channel(self._target, creds, options=self._options)

    def current(self) -> grpc.aio.Channel:
        if time.monotonic() >= self._next_check:
            self._reload()
        return self._channel

    def _reload(self) -> None:
        self._next_check = time.monotonic() + self._check
        try:
            stamp = self._files.stamp()
            if stamp == self._stamp:
                return
            pem = self._files.read()
        except (OSError, TlsError) as exc:
            # Retried at the next check: a rotation may be half-written.
            log.warning("client certificate not reloaded; keeping the current one", extra={"reason": str(exc)})
            return
        self._stamp = stamp
        if pem == self._pem:
            return
        old, self._pem = self._channel, pem
        self._channel = self._open(pem)
        self._channel.get_state(try_to_connect=True)  # handshake now, not on the next call
        task = asyncio.get_running_loop().create_task(old.close(self._grace))
        self._retired[task] = old
        task.add_done_callback(self._retired.pop)
        log.info("client certificate reloaded", extra={"target": self._target})

    def unary_unary(self, *args: Any, **kwargs: Any) -> Any:
        return _Rebinding(self, "unary_unary", args, kwargs)

    def unary_stream(self, *args: Any, **kwargs: Any) -> Any:
        return _Rebinding(self, "unary_stream", args, kwargs)

    def stream_unary(self, *args: Any, **kwargs: Any) -> Any:
        return _Rebinding(self, "stream_unary", args, kwargs)

    def stream_stream(self, *args: Any, **kwargs: Any) -> Any:
        return _Rebinding(self, "stream_stream", args, kwargs)

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return self.current().get_state(try_to_connect)

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await self.current().wait_for_state_change(last_observed_state)

    async def channel_ready(self) -> None:
        await self.current().channel_ready()

    async def close(self, grace: float | None = None) -> None:
        retired = list(self._retired.items())
        for task, _ in retired:
            task.cancel()
        await asyncio.gather(self._channel.close(grace), *(ch.close(grace) for _, ch in retired))

    async def __aenter__(self) -> ReloadingChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
