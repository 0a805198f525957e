"""Brings the whole stack up once per session: real PostgreSQL, Redis and Kafka, the six services
as separate processes, and the fake upstream, on ports apart from `make up`'s."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from devstack import stack
from e2e import gcp
from e2e.support import ACTIONS_SIGNING_KEY, MASTER_KEY
from switchyard_fakes import bedrock_server, langfuse_server, serve

HERE = Path(__file__).parent

# Credentials the provider fakes accept, given to the provider adapter as environment variables
# that config.yaml names with os.environ/ references.
PROVIDER_ADAPTER_ENV = {
    "E2E_AWS_ACCESS_KEY_ID": bedrock_server.ACCESS_KEY_ID,
    "E2E_AWS_SECRET_ACCESS_KEY": bedrock_server.SECRET_ACCESS_KEY,
    "E2E_VERTEX_CREDENTIALS": gcp.service_account(18180)[0],
}
FAKE_PORT = 18180
# The logging receivers config.yaml's success_callback names, as the fakes serve them.
LANGFUSE_PORT = FAKE_PORT + serve.PORT_OFFSETS["langfuse_server"]
WEBHOOK_PORT = FAKE_PORT + serve.PORT_OFFSETS["webhook_server"]
CALLBACKS_ENV = {
    "LANGFUSE_HOST": f"http://127.0.0.1:{LANGFUSE_PORT}",
    "LANGFUSE_PUBLIC_KEY": langfuse_server.PUBLIC_KEY,
    "LANGFUSE_SECRET_KEY": langfuse_server.SECRET_KEY,
    "GENERIC_LOGGER_ENDPOINT": f"http://127.0.0.1:{WEBHOOK_PORT}/switchyard/logs",
    "E2E_WEBHOOK_TOKEN": "e2e-webhook-token-not-secret",
}


@pytest.fixture(scope="session")
def stack_cfg() -> Iterator[stack.StackConfig]:
    cfg = stack.StackConfig(
        state_dir=stack.REPO / ".stack" / "e2e",
        config_path=HERE / "config.yaml",
        http_port=14000,
        grpc_base=24050,
        metrics_base=24200,
        fake_port=FAKE_PORT,
        pg_port=25532,
        redis_port=26479,
        kafka_port=29192,
        kafka_controller_port=29193,
        master_key=MASTER_KEY,
        log_level="INFO",
        # Budget windows restart within a second, so a test can watch one restart.
        # An opaque Zitadel token revoked at the issuer fails within 2 s, and the issuer's webhook
        # is signed with ACTIONS_SIGNING_KEY (test_signin).
        extra_env={
            "provider-adapter": PROVIDER_ADAPTER_ENV,
            "copilot-budget": {"BUDGET_RESET_CHECK_SECONDS": "1"},
            "auth": {"OIDC_INTROSPECTION_CACHE_SECONDS": "2", "OIDC_ACTIONS_SIGNING_KEY": ACTIONS_SIGNING_KEY},
            "callbacks": CALLBACKS_ENV,
        },
    )
    stack.down(cfg)
    shutil.rmtree(cfg.state_dir, ignore_errors=True)
    try:
        stack.up(cfg)
        yield cfg
    finally:
        stack.down(cfg)


@pytest.fixture(scope="session")
def base_url(stack_cfg: stack.StackConfig) -> str:
    return f"http://127.0.0.1:{stack_cfg.http_port}"


@pytest.fixture(scope="session")
def client(base_url: str) -> openai.OpenAI:
    # max_retries=0: the SDK must see the gateway's first answer, not retry it away.
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=30)


@pytest.fixture(scope="session")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def fake(stack_cfg: stack.StackConfig) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack_cfg.fake_port}", timeout=10) as c:
        yield c
