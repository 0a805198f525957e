"""Added latency of the provider adapter against a provider fake, per provider family.

For each family: N sequential Chat calls through the real adapter gRPC server (in-process,
loopback) to the family's fake, and N sequential calls with the same native request straight to
the fake with aiohttp (one keep-alive session, like the adapter's pool). The added latency is the
difference of the medians (gRPC hop + translation both ways + pricing).

    uv run python services/provider-adapter/tests/latency.py [--n 2000] [anthropic azure openai]"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).parent))

from harness import adapter
from test_openai import TestOpenAI

from switchyard_fakes import anthropic_server, azure_server, bedrock_server, cohere_server, gemini_server, ollama_server
from switchyard_fakes.base import Running


@functools.cache
def _vertex_key() -> tuple[dict[str, str], str]:
    return gemini_server.make_service_account("http://placeholder/token")


def _vertex_app() -> Any:
    app = gemini_server.create_app()
    info, public = _vertex_key()
    app[gemini_server.AUTH].register_service_account(info["client_email"], public)
    return app


BODY = {"messages": [{"role": "user", "content": "Say hello in five words."}], "max_tokens": 64}

FAMILIES: dict[str, dict[str, Any]] = {
    "anthropic": {
        "app": anthropic_server.create_app,
        "params": lambda url: {
            "model": "anthropic/claude-sonnet-4-5-20250929",
            "api_base": url,
            "api_key": anthropic_server.DEFAULT_API_KEY,
        },
    },
    "azure": {
        "app": azure_server.create_app,
        "params": lambda url: {
            "model": "azure/gpt4o",
            "api_base": url,
            "api_key": azure_server.DEFAULT_API_KEY,
            "api_version": "2024-10-21",
        },
    },
    "bedrock": {
        # SigV4 signing is part of the adapter's cost; the direct replay reuses the signed request.
        "app": bedrock_server.create_app,
        "params": lambda url: {
            "model": "bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
            "api_base": url,
            "aws_access_key_id": bedrock_server.ACCESS_KEY_ID,
            "aws_secret_access_key": bedrock_server.SECRET_ACCESS_KEY,
            "aws_region_name": bedrock_server.REGION,
        },
    },
    "gemini": {
        "app": gemini_server.create_app,
        "params": lambda url: {"model": "gemini/gemini-2.5-flash", "api_base": url, "api_key": "fake-gemini-key"},
    },
    "vertex": {
        # The access token is fetched once and cached, so the exchange is not in the steady state.
        "app": _vertex_app,
        "params": lambda url: {
            "model": "vertex_ai/gemini-2.5-flash",
            "vertex_project": "p",
            "api_base": url,
            "vertex_credentials": orjson.dumps({**_vertex_key()[0], "token_uri": f"{url}/token"}).decode(),
        },
    },
    "cohere": {
        "app": cohere_server.create_app,
        "params": lambda url: {"model": "cohere/command-a-03-2025", "api_base": url, "api_key": "fake-cohere-key"},
    },
    "ollama": {
        "app": ollama_server.create_app,
        "params": lambda url: {"model": "ollama_chat/llama3.2", "api_base": url},
    },
    "openai": {
        # The recording fake of the OpenAI scenario tests (same wire format as openai_server).
        "app": lambda: TestOpenAI().fake_app(),
        "params": lambda url: {"model": "openai/gpt-4o-mini", "api_base": f"{url}/v1", "api_key": "sk-fake"},
    },
}


async def _measure(family: str, n: int) -> tuple[float, float]:
    spec = FAMILIES[family]
    async with Running(spec["app"]()) as fake:
        model_list = [
            {
                "model_name": "m",
                "litellm_params": spec["params"](fake.url),
                "model_info": {"id": "m-1", "input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002},
            }
        ]
        with tempfile.TemporaryDirectory() as tmp:
            async with adapter(Path(tmp), model_list) as ad:
                # The native request the adapter sends, replayed directly.
                await ad.chat("m", BODY)
                rec = fake.state.last
                url = f"{fake.url}{rec.path}" + (
                    f"?{'&'.join(f'{k}={v}' for k, v in rec.query.items())}" if rec.query else ""
                )
                headers = {k: v for k, v in rec.headers.items() if k.lower() not in ("host", "content-length")}
                via_adapter: list[float] = []
                for _ in range(200):  # warm-up
                    await ad.chat("m", BODY)
                for _ in range(n):
                    t = time.perf_counter()
                    resp = await ad.chat("m", BODY)
                    via_adapter.append(time.perf_counter() - t)
                    assert resp.WhichOneof("result") == "completion", resp.error
                direct: list[float] = []
                async with aiohttp.ClientSession() as session:
                    for i in range(n + 200):
                        t = time.perf_counter()
                        async with session.post(url, data=rec.body, headers=headers) as r:
                            await r.read()
                            assert r.status == 200
                        if i >= 200:
                            direct.append(time.perf_counter() - t)
                fake.state.requests.clear()
    return statistics.median(via_adapter) * 1000, statistics.median(direct) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("families", nargs="*", default=list(FAMILIES))
    args = parser.parse_args()
    for family in args.families:
        adapter_ms, direct_ms = await _measure(family, args.n)
        print(
            f"{family:10s} n={args.n}  via adapter p50 {adapter_ms:.3f} ms  direct p50 {direct_ms:.3f} ms  "
            f"added {adapter_ms - direct_ms:.3f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
