"""Gemini on Vertex AI through the scenario suite: publisher-model URLs, and service-account auth
(JWT-bearer exchange at the credential's token_uri, verified by the fake like Google does, token
caching, renewal before expiry, invalidation on 401)."""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path
from typing import Any, ClassVar

import gemini_replies as g
from aiohttp import web
from harness import Adapter, adapter
from scenarios import ChatScenarios

from switchyard.llm.v1 import deployment_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes.base import Recorded, Reply, Running
from switchyard_fakes.gemini_server import AUTH, create_app, make_service_account
from switchyard_llm.openai_codec.embeddings import embedding_request_from_json
from switchyard_provider_adapter.clients.google_auth import AccessToken
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.gemini.provider import VertexProvider

PROJECT = "proj-1"
PATH = f"/v1/projects/{PROJECT}/locations/us-central1/publishers/google/models/{g.MODEL}"


@functools.cache
def service_account() -> tuple[dict[str, str], str]:
    """One RSA key for the module (generating one per test would dominate the run time)."""
    return make_service_account("http://placeholder/token")


def credentials_json(base_url: str, **overrides: str) -> str:
    info, _ = service_account()
    return json.dumps({**info, "token_uri": f"{base_url}/token", **overrides})


class TestVertex(ChatScenarios):
    reports_cache_writes = False
    # The secret of a Vertex deployment is its service-account key; it must never reach a message.
    api_key: ClassVar[str] = service_account()[0]["private_key_id"]

    def fake_app(self) -> web.Application:
        app = create_app()
        info, public = service_account()
        app[AUTH].register_service_account(info["client_email"], public)
        return app

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        return {
            "model": f"vertex_ai/{g.MODEL}",
            "vertex_project": PROJECT,
            "vertex_location": "us-central1",
            "api_base": base_url,
            "vertex_credentials": credentials_json(base_url),
        }

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        return g.reply_text(text, prompt_tokens, completion_tokens)

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        return g.reply_tool_calls(calls)

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        return g.stream_text(pieces, prompt_tokens, completion_tokens)

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        return g.stream_tool_calls(calls)

    def reply_error(self, name: str) -> Reply:
        if name == "auth":
            # Vertex answers a bad token with 401 UNAUTHENTICATED (no API keys there).
            from switchyard_fakes.gemini_server import error_reply

            return error_reply(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        return g.reply_error(name)

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        return g.reply_cached_usage(prompt, completion, cache_read)

    def check_plain(self, rec: Recorded) -> None:
        assert rec.method == "POST" and rec.path == f"{PATH}:generateContent"
        auth = rec.header("authorization") or ""
        assert auth.startswith("Bearer ya29.fake-")
        assert rec.header("x-goog-api-key") is None
        g.check_plain_body(rec)

    def check_system(self, rec: Recorded) -> None:
        g.check_system(rec)

    def check_sampling(self, rec: Recorded) -> None:
        g.check_sampling(rec)

    def check_tool_history(self, rec: Recorded) -> None:
        g.check_tool_history(rec)

    def check_forced_tool(self, rec: Recorded) -> None:
        g.check_forced_tool(rec)

    def check_json_schema(self, rec: Recorded) -> None:
        g.check_json_schema(rec)

    def check_image(self, rec: Recorded) -> None:
        g.check_image(rec)

    def check_stream(self, rec: Recorded) -> None:
        assert rec.path == f"{PATH}:streamGenerateContent"
        g.check_stream_query(rec)

    # --- service-account auth -----------------------------------------------------------

    def _model(self, fake: Running, **params: Any) -> list[dict[str, Any]]:
        return [{"model_name": "m", "litellm_params": {**self.litellm_params(fake.url), **params}}]

    async def test_token_is_fetched_once_and_reused(self, ad: Adapter, fake: Running) -> None:
        body = {"messages": [{"role": "user", "content": "hi"}]}
        results = await asyncio.gather(*(ad.chat(self.model_name, body) for _ in range(5)))
        assert all(r.WhichOneof("result") == "completion" for r in results)
        await ad.stream(self.model_name, body)
        auth = fake.app[AUTH]
        assert len(auth.token_requests) == 1, "concurrent first calls share one exchange"
        grant = auth.token_requests[0]
        assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        assert len({r.header("authorization") for r in fake.state.requests}) == 1

    async def test_token_near_expiry_is_renewed(self, fake: Running, tmp_path: Path) -> None:
        fake.app[AUTH].token_lifetime = 120  # inside the renewal margin
        async with adapter(tmp_path, self._model(fake)) as ad:
            for _ in range(2):
                resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
                assert resp.WhichOneof("result") == "completion", resp.error
        assert len(fake.app[AUTH].token_requests) == 2

    async def test_revoked_token_is_replaced_after_a_401(self, ad: Adapter, fake: Running) -> None:
        body = {"messages": [{"role": "user", "content": "hi"}]}
        assert (await ad.chat(self.model_name, body)).WhichOneof("result") == "completion"
        fake.app[AUTH].revoke_all()
        failed = await ad.chat(self.model_name, body)
        assert failed.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION and failed.error.http_status == 401
        assert "invalid authentication credentials" in failed.error.message
        again = await ad.chat(self.model_name, body)
        assert again.WhichOneof("result") == "completion", again.error
        assert len(fake.app[AUTH].token_requests) == 2

    async def test_wrong_key_is_refused_by_the_token_endpoint(self, fake: Running, tmp_path: Path) -> None:
        _, other_public = make_service_account("http://x/token")
        fake.app[AUTH].register_service_account(service_account()[0]["client_email"], other_public)
        async with adapter(tmp_path, self._model(fake)) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION
        assert "invalid_grant: Invalid JWT Signature." in resp.error.message
        assert "PRIVATE KEY" not in resp.error.message
        assert [r.path for r in fake.state.requests] == []

    async def test_unknown_service_account(self, fake: Running, tmp_path: Path) -> None:
        creds = credentials_json(fake.url, client_email="stranger@other.iam.gserviceaccount.com")
        async with adapter(tmp_path, self._model(fake, vertex_credentials=creds)) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION and "account not found" in resp.error.message

    async def test_unreadable_credentials(self, fake: Running, tmp_path: Path) -> None:
        async with adapter(tmp_path, self._model(fake, vertex_credentials="{not json")) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION and "not valid JSON" in resp.error.message
        assert "{not json" not in resp.error.message

    async def test_credentials_file_and_project_from_the_key(self, fake: Running, tmp_path: Path) -> None:
        path = tmp_path / "sa.json"
        path.write_text(credentials_json(fake.url))
        params = self._model(fake, vertex_credentials=str(path))
        del params[0]["litellm_params"]["vertex_project"]
        async with adapter(tmp_path, params) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.WhichOneof("result") == "completion", resp.error
        assert fake.state.last.path.startswith("/v1/projects/fake-project/locations/us-central1/")

    async def test_credentials_written_as_a_yaml_mapping(self, fake: Running, tmp_path: Path) -> None:
        creds = json.loads(credentials_json(fake.url))
        async with adapter(tmp_path, self._model(fake, vertex_credentials=creds)) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.WhichOneof("result") == "completion", resp.error

    async def test_partner_models_are_refused_clearly(self, fake: Running, tmp_path: Path) -> None:
        async with adapter(tmp_path, self._model(fake, model="vertex_ai/claude-sonnet-4@20250514")) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and "partner model" in resp.error.message
        assert fake.state.requests == []

    async def test_authorized_user_credentials(self, fake: Running, tmp_path: Path) -> None:
        fake.app[AUTH].refresh_tokens["1//refresh-token-of-a-user"] = "client-1.apps.googleusercontent.com"
        creds = json.dumps(
            {
                "type": "authorized_user",
                "client_id": "client-1.apps.googleusercontent.com",
                "client_secret": "user-client-secret-0000",
                "refresh_token": "1//refresh-token-of-a-user",
                "token_uri": f"{fake.url}/token",
            }
        )
        async with adapter(tmp_path, self._model(fake, vertex_credentials=creds)) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.WhichOneof("result") == "completion", resp.error
        assert fake.app[AUTH].token_requests[0]["grant_type"] == "refresh_token"

    async def test_unscripted_default_answer(self, ad: Adapter, fake: Running) -> None:
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert "fake Gemini" in resp.completion.choices[0].message.text

    # --- embeddings ---------------------------------------------------------------------

    async def test_embeddings_use_predict(self, ad: Adapter, fake: Running) -> None:
        req = embedding_request_from_json(
            {
                "model": self.model_name,
                "input": ["one two", "three"],
                "dimensions": 3,
                "task_type": "RETRIEVAL_DOCUMENT",
            }
        )
        resp = await ad.stub.Embed(
            provider_pb2.EmbedRequest(deployment=ad.deployment(self.model_name), request=req, call_id="e"), timeout=30
        )
        assert resp.WhichOneof("result") == "embeddings", resp.error
        rec = fake.state.last
        assert rec.path == f"{PATH}:predict"
        assert rec.json() == {
            "instances": [
                {"content": "one two", "task_type": "RETRIEVAL_DOCUMENT"},
                {"content": "three", "task_type": "RETRIEVAL_DOCUMENT"},
            ],
            "parameters": {"outputDimensionality": 3},
        }
        assert [len(e.floats.values) for e in resp.embeddings.data] == [3, 3]
        assert resp.embeddings.usage.prompt_tokens == 3  # the statistics' token counts


class _Tokens:
    async def token(self, provider: str, credentials: str, scopes: tuple[str, ...]) -> AccessToken:
        return AccessToken("t", 0.0, "from-key")

    def invalidate(self, credentials: str) -> None:
        return None


async def test_vertex_urls() -> None:
    provider = VertexProvider(_Tokens())

    def ctx(model: str, **params: str) -> CallContext:
        dep = deployment_pb2.Deployment(id="d", provider="vertex_ai", model=model)
        return CallContext(dep, {"vertex_credentials": "{}"}, params, "c")

    assert await provider._model_url(
        ctx("gemini-2.5-pro", vertex_project="p", vertex_location="europe-west4"), "x"
    ) == (
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4/"
        "publishers/google/models/gemini-2.5-pro:x"
    )
    assert await provider._model_url(ctx("gemini-3-pro-preview", vertex_location="global"), "x") == (
        "https://aiplatform.googleapis.com/v1/projects/from-key/locations/global/publishers/google/models/gemini-3-pro-preview:x"
    )
    assert await provider._model_url(ctx("1234567890", vertex_project="p"), "x") == (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/1234567890:x"
    )
