"""Serve every fake provider from one process, each on its own port: the offline default config
and the end-to-end tests point deployments at these.

``python -m switchyard_fakes.serve --base-port 18080`` → openai on 18080, anthropic on 18081, ...
(see ``PORT_OFFSETS``). A fake whose module is absent is skipped."""

from __future__ import annotations

import argparse
import asyncio
import importlib

from aiohttp import web

# provider fake module → offset from the base port.
PORT_OFFSETS = {
    "openai_server": 0,
    "anthropic_server": 1,
    "gemini_server": 2,
    "bedrock_server": 3,
    "cohere_server": 4,
    "ollama_server": 5,
    "azure_server": 6,
    # Not a provider: the fake identity provider (Zitadel's OIDC endpoints) for sign-in.
    "oidc_server": 7,
    # Receivers of logging callbacks.
    "langfuse_server": 8,
    "webhook_server": 9,
}


async def _serve(host: str, base_port: int) -> None:
    runners = []
    for module, offset in PORT_OFFSETS.items():
        try:
            mod = importlib.import_module(f"switchyard_fakes.{module}")
        except ModuleNotFoundError:
            continue
        runner = web.AppRunner(mod.create_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, base_port + offset).start()
        runners.append(runner)
    try:
        await asyncio.Event().wait()
    finally:
        for r in runners:
            await r.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--base-port", type=int, default=18080)
    args = parser.parse_args()
    asyncio.run(_serve(args.host, args.base_port))


if __name__ == "__main__":
    main()
