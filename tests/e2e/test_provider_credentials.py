"""An admin cannot redirect a credential entered with /model/new: not by /model/update, not by
changing the stored definition behind the router's back, not by naming the provider adapter's
environment. A second upstream in this test stands for the host the credential would be sent to;
it only ever sees a credential entered for it."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import asyncpg
import httpx
import orjson
import pytest

from devstack import infra, stack
from e2e.router_stack import chat, wait_until

SECRET = "sk-entered-for-the-fake-" + uuid.uuid4().hex
COMPLETION = {
    "id": "chatcmpl-elsewhere",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


class Elsewhere:
    """An OpenAI-compatible upstream that records the Authorization header of every request."""

    def __init__(self) -> None:
        self.authorizations: list[str] = []
        seen = self.authorizations

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                seen.append(self.headers.get("authorization") or "")
                body = orjson.dumps(COMPLETION)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Elsewhere:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    with Elsewhere() as e:
        yield e


def _authorizations(fake: httpx.Client, upstream: str) -> list[str]:
    return [e["headers"].get("Authorization") for e in fake.get("/__log").json() if e["body"].get("model") == upstream]


async def _move_stored_api_base(dsn: str, model_id: str, api_base: str) -> None:
    """What a write to the router's table (or a bug in its checks) could do: change where the
    stored deployment points, keeping its sealed credential; and tell the routers."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                "UPDATE router.deployments SET litellm_params = jsonb_set(litellm_params, '{api_base}', $2::jsonb)"
                " WHERE id = $1",
                model_id,
                orjson.dumps(api_base).decode(),
            )
            version = await conn.fetchval("UPDATE router.registry_version SET version = version + 1 RETURNING version")
            await conn.execute("SELECT pg_notify('switchyard_router_models', $1)", str(version))
    finally:
        await conn.close()


def test_an_admin_cannot_redirect_a_credential(
    http: httpx.Client, fake: httpx.Client, stack_cfg: stack.StackConfig, elsewhere: Elsewhere
) -> None:
    name = f"cred-{uuid.uuid4().hex[:6]}"
    upstream = f"up-{uuid.uuid4().hex[:6]}"
    model_id = f"{name}-1"
    params = {"model": f"openai/{upstream}", "api_base": f"http://127.0.0.1:{stack_cfg.fake_port}/v1"}
    resp = http.post(
        "/model/new",
        json={"model_name": name, "litellm_params": {**params, "api_key": SECRET}, "model_info": {"id": model_id}},
    )
    assert resp.status_code == 200, resp.text
    wait_until(lambda: chat(http, name).status_code == 200, timeout=3.0, what="the new model served")
    assert set(_authorizations(fake, upstream)) == {f"Bearer {SECRET}"}

    # /model/update may not move the credential without entering it again.
    resp = http.post(
        "/model/update", json={"model_info": {"id": model_id}, "litellm_params": {"api_base": elsewhere.url}}
    )
    assert resp.status_code == 400 and "send api_key again" in resp.json()["detail"], resp.text
    assert chat(http, name).status_code == 200

    # Nor may a model added at runtime read the provider adapter's environment.
    for field in ("api_key", "organization"):
        resp = http.post(
            "/model/new",
            json={
                "model_name": f"{name}-env",
                "litellm_params": {**params, "api_base": elsewhere.url, field: "os.environ/E2E_AWS_SECRET_ACCESS_KEY"},
            },
        )
        assert resp.status_code == 400 and f"litellm_params.{field}" in resp.json()["detail"], resp.text

    # A stored definition changed behind the router's checks: the credential does not open.
    asyncio.run(_move_stored_api_base(infra.urls(stack_cfg.infra)["DATABASE_URL"], model_id, elsewhere.url))
    refused: list[httpx.Response] = []

    def is_refused() -> bool:
        r = chat(http, name)
        if r.status_code != 200:
            refused.append(r)
        return bool(refused)

    wait_until(is_refused, timeout=5.0, what="the moved model refused")
    resp = refused[0]
    assert resp.status_code == 401, resp.text
    message = resp.json()["error"]["message"]
    assert "enter api_key again with /model/update" in message and SECRET not in message
    assert elsewhere.authorizations == []

    # Entering the credential again for the new host is how an admin moves a model.
    moved_key = "sk-entered-for-elsewhere-" + uuid.uuid4().hex
    resp = http.post("/model/update", json={"model_info": {"id": model_id}, "litellm_params": {"api_key": moved_key}})
    assert resp.status_code == 200, resp.text
    wait_until(lambda: chat(http, name).status_code == 200, timeout=3.0, what="the re-entered credential in use")
    assert elsewhere.authorizations and set(elsewhere.authorizations) == {f"Bearer {moved_key}"}
    assert SECRET not in "".join(elsewhere.authorizations)
    assert http.post("/model/delete", json={"id": model_id}).status_code == 200
