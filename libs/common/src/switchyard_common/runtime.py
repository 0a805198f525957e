"""Process entry point shared by every service: settings, telemetry, uvloop, then the server
(or a one-shot command such as ``migrate``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from switchyard_common.aio import install_uvloop
from switchyard_common.grpc_tls import TlsError
from switchyard_common.settings import CommonSettings, ConfigError, load_settings
from switchyard_common.telemetry import init_telemetry, shutdown_telemetry

S = TypeVar("S", bound=CommonSettings)


def run_service(
    settings_cls: type[S],
    serve: Callable[[S], Coroutine[Any, Any, None]],
    *,
    commands: Mapping[str, Callable[[S], Coroutine[Any, Any, None]]] | None = None,
) -> None:
    """``python -m switchyard_<svc> [command]``: with no argument, run the server until SIGTERM."""
    args = sys.argv[1:]
    settings = load_settings(settings_cls)
    command = None
    if args:
        command = (commands or {}).get(args[0])
        if command is None:
            names = ", ".join(sorted(commands or {})) or "none"
            raise SystemExit(f"{settings.service_name}: unknown command {args[0]!r} (commands: {names})")
    init_telemetry(
        settings.service_name,
        log_level=settings.log_level,
        metrics_port=settings.metrics_port if command is None else 0,
        metrics_host=settings.bind_host,
        trust_inbound_sampling=settings.trust_inbound_sampling,
    )
    install_uvloop()
    try:
        asyncio.run(command(settings) if command else serve(settings))
    except (ConfigError, TlsError) as exc:
        raise SystemExit(f"{settings.service_name}: {exc}") from None
    finally:
        shutdown_telemetry()
