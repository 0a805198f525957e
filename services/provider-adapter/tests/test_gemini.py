"""Gemini (Google AI Studio) through the scenario suite, plus its own quirks: thinking, thought
signatures, finish reasons, candidates, legacy schemas, embeddings."""

from __future__ import annotations

import base64
import json
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import gemini_replies as g
import pytest
from aiohttp import web
from harness import Adapter, adapter, assemble, chunks_of, end_of
from scenarios import INPUT_PRICE, OUTPUT_PRICE, TOOL_HISTORY, TOOLS, ChatScenarios

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes.base import Recorded, Reply, Running
from switchyard_fakes.gemini_server import create_app, response, sse_frames
from switchyard_llm.openai_codec.embeddings import embedding_request_from_json


class TestGemini(ChatScenarios):
    reports_cache_writes = False  # Gemini's usage has no cache-write count (caches are created apart)

    def fake_app(self) -> web.Application:
        return create_app(api_key=self.api_key)

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        return {"model": f"gemini/{g.MODEL}", "api_base": base_url, "api_key": self.api_key}

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        return g.reply_text(text, prompt_tokens, completion_tokens)

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        return g.reply_tool_calls(calls)

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        return g.stream_text(pieces, prompt_tokens, completion_tokens)

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        return g.stream_tool_calls(calls)

    def reply_error(self, name: str) -> Reply:
        return g.reply_error(name)

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        return g.reply_cached_usage(prompt, completion, cache_read)

    def check_plain(self, rec: Recorded) -> None:
        assert rec.method == "POST" and rec.path == f"/v1beta/models/{g.MODEL}:generateContent"
        assert rec.header("x-goog-api-key") == self.api_key
        assert rec.header("authorization") is None and "key" not in rec.query
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
        assert rec.path == f"/v1beta/models/{g.MODEL}:streamGenerateContent"
        g.check_stream_query(rec)
        assert rec.header("accept") == "text/event-stream"

    # --- Gemini specifics ---------------------------------------------------------------

    async def test_wrong_api_key_is_an_authentication_error(self, fake: Running, tmp_path: Path) -> None:
        """Unscripted: the fake's own key check answers Google's 400 API_KEY_INVALID."""
        params = {**self.litellm_params(fake.url), "api_key": "not-the-right-key-123"}
        models = [{"model_name": "m", "litellm_params": params, "model_info": {"id": "d"}}]
        async with adapter(tmp_path, models) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION and resp.error.http_status == 401
        assert "API key not valid" in resp.error.message
        assert "not-the-right-key-123" not in resp.error.message

    async def test_missing_api_key_fails_before_calling(self, fake: Running, tmp_path: Path) -> None:
        models = [{"model_name": "m", "litellm_params": {"model": f"gemini/{g.MODEL}", "api_base": fake.url}}]
        async with adapter(tmp_path, models) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION
        assert fake.state.requests == []

    async def test_default_answer_of_the_fake(self, ad: Adapter, fake: Running) -> None:
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "Say hello"}]})
        assert "fake Gemini" in resp.completion.choices[0].message.text
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "Say hello"}]})
        assert "fake Gemini" in assemble(chunks_of(msgs))["message"]["content"]
        assert end_of(msgs).usage.completion_tokens > 0

    async def test_thinking_and_reasoning_tokens(self, ad: Adapter, fake: Running) -> None:
        parts = [{"text": "Let me think about it.", "thought": True}, {"text": "42"}]
        fake.state.script("*", Reply(body=response(parts, "STOP", g.usage(10, 2, thoughts=30), g.MODEL)))
        resp = await ad.chat(
            self.model_name, {"messages": [{"role": "user", "content": "?"}], "reasoning_effort": "low"}
        )
        msg = resp.completion.choices[0].message
        assert msg.text == "42" and msg.reasoning_content == "Let me think about it."
        u = resp.completion.usage
        assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (10, 32, 42)
        assert u.completion_tokens_details.reasoning_tokens == 30
        assert Decimal(resp.stats.cost_usd) == 10 * INPUT_PRICE + 32 * OUTPUT_PRICE
        assert fake.state.last.json()["generationConfig"] == {
            "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}
        }

    async def test_streamed_thoughts_become_reasoning_content(self, ad: Adapter, fake: Running) -> None:
        events = [
            response([{"text": "Hmm", "thought": True}], None, None, g.MODEL),
            response([{"text": "Answer"}], "STOP", g.usage(5, 1, thoughts=3), g.MODEL),
        ]
        fake.state.script("*", Reply(frames=sse_frames(*events), content_type="text/event-stream"))
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "?"}]})
        got = assemble(chunks_of(msgs))
        assert got["message"] == {"role": "assistant", "content": "Answer", "reasoning_content": "Hmm"}
        assert end_of(msgs).usage.completion_tokens_details.reasoning_tokens == 3

    async def test_gemini_3_takes_a_thinking_level(self, fake: Running, tmp_path: Path) -> None:
        params = {**self.litellm_params(fake.url), "model": "gemini/gemini-3-pro-preview"}
        async with adapter(tmp_path, [{"model_name": "m", "litellm_params": params}]) as ad:
            await ad.chat("m", {"messages": [{"role": "user", "content": "?"}], "reasoning_effort": "high"})
        assert fake.state.last.json()["generationConfig"]["thinkingConfig"] == {
            "thinkingLevel": "high",
            "includeThoughts": True,
        }

    async def test_thought_signature_round_trip(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", g.reply_tool_calls([("x", "get_weather", '{"city": "Paris"}')]))
        first = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "Weather?"}], "tools": TOOLS})
        tc = first.completion.choices[0].message.tool_calls[0]
        assert tc.id.endswith(f"__thought__{g.SIGNATURE}")
        assert json.loads(tc.extra_json) == {"provider_specific_fields": {"thought_signature": g.SIGNATURE}}
        # A client that keeps only id/type/function still gets the signature back to Gemini.
        history = [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": tc.id,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": tc.id, "content": "sunny"},
        ]
        await ad.chat(self.model_name, {"messages": history, "tools": TOOLS})
        contents = fake.state.last.json()["contents"]
        assert contents[1]["parts"] == [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": g.SIGNATURE}
        ]
        assert contents[2]["parts"][0]["functionResponse"]["name"] == "get_weather"

    async def test_signature_from_provider_specific_fields(self, ad: Adapter, fake: Running) -> None:
        history = [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                        "provider_specific_fields": {"thought_signature": "sig-9"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_9", "content": "sunny"},
        ]
        await ad.chat(self.model_name, {"messages": history, "tools": TOOLS})
        assert fake.state.last.json()["contents"][1]["parts"] == [
            {"text": "Checking."},
            {"functionCall": {"name": "get_weather", "args": {}}, "thoughtSignature": "sig-9"},
        ]

    async def test_parallel_tool_results_are_one_turn(self, ad: Adapter, fake: Running) -> None:
        history = [
            {"role": "user", "content": "Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    {"id": "b", "type": "function", "function": {"name": "get_time", "arguments": '{"city":"Rome"}'}},
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "sunny"},
            {"role": "tool", "tool_call_id": "b", "content": "noon"},
        ]
        await ad.chat(self.model_name, {"messages": history})
        contents = fake.state.last.json()["contents"]
        assert [c["role"] for c in contents] == ["user", "model", "user"]
        assert [p["functionResponse"]["name"] for p in contents[2]["parts"]] == ["get_weather", "get_time"]

    async def test_unknown_tool_call_id_is_a_bad_request(self, ad: Adapter, fake: Running) -> None:
        messages = [*TOOL_HISTORY[:2], {"role": "tool", "tool_call_id": "nope", "content": "x"}]
        resp = await ad.chat(self.model_name, {"messages": messages})
        assert resp.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST
        assert resp.error.param == "messages[2].tool_call_id"
        assert fake.state.requests == []

    @pytest.mark.parametrize(
        ("native", "expected"),
        [("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter"), ("OTHER", "stop")],
    )
    async def test_finish_reasons(self, native: str, expected: str, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", Reply(body=response([{"text": "cut"}], native, g.usage(3, 1), g.MODEL)))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        choice = resp.completion.choices[0]
        assert choice.finish_reason == expected
        if native != "MAX_TOKENS":
            assert json.loads(choice.extra_json) == {"provider_specific_fields": {"finish_reason": native}}

    async def test_blocked_prompt_in_a_stream(self, ad: Adapter, fake: Running) -> None:
        blocked = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}}
        fake.state.script("*", Reply(frames=sse_frames(blocked), content_type="text/event-stream"))
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert len(msgs) == 1 and msgs[0].error.kind == ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION
        assert "SAFETY" in msgs[0].error.message

    async def test_candidates_become_choices(self, ad: Adapter, fake: Running) -> None:
        body = response([{"text": "one"}], "STOP", g.usage(3, 2), g.MODEL)
        body["candidates"].append(
            {"content": {"parts": [{"text": "two"}], "role": "model"}, "finishReason": "STOP", "index": 1}
        )
        fake.state.script("*", Reply(body=body))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}], "n": 2})
        assert [c.message.text for c in resp.completion.choices] == ["one", "two"]
        assert fake.state.last.json()["generationConfig"] == {"candidateCount": 2}

    async def test_unsupported_params_and_drop_params(self, ad: Adapter, fake: Running, tmp_path: Path) -> None:
        resp = await ad.chat(
            self.model_name, {"messages": [{"role": "user", "content": "hi"}], "logit_bias": {"50256": -100}}
        )
        assert resp.error.kind == ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS and resp.error.param == "logit_bias"
        resp = await ad.chat(
            self.model_name, {"messages": [{"role": "user", "content": "hi"}], "parallel_tool_calls": False}
        )
        assert resp.error.param == "parallel_tool_calls"
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}], "prediction": {}})
        assert resp.error.param == "prediction"
        assert fake.state.requests == []
        resp = await ad.chat(
            self.model_name,
            {
                "messages": [{"role": "user", "content": "hi"}],
                "logit_bias": {"1": 1},
                "prediction": {},
                "drop_params": True,
            },
        )
        assert resp.WhichOneof("result") == "completion"
        assert "generationConfig" not in fake.state.last.json()

    async def test_native_extras_pass_through(self, ad: Adapter, fake: Running) -> None:
        safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
        await ad.chat(
            self.model_name,
            {"messages": [{"role": "user", "content": "hi"}], "top_k": 5, "safety_settings": safety},
        )
        body = fake.state.last.json()
        assert body["safetySettings"] == safety and body["generationConfig"] == {"topK": 5}

    async def test_legacy_models_get_the_openapi_schema_subset(self, fake: Running, tmp_path: Path) -> None:
        params = {**self.litellm_params(fake.url), "model": "gemini/gemini-2.0-flash"}
        schema = {
            "type": "object",
            "properties": {"city": {"type": ["string", "null"]}},
            "required": ["city"],
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        }
        tools = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
        rf = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
        async with adapter(tmp_path, [{"model_name": "m", "litellm_params": params}]) as ad:
            await ad.chat("m", {"messages": [{"role": "user", "content": "?"}], "tools": tools, "response_format": rf})
        body = fake.state.last.json()
        subset = {"type": "object", "properties": {"city": {"type": "string", "nullable": True}}, "required": ["city"]}
        assert body["tools"][0]["functionDeclarations"][0]["parameters"] == subset
        assert body["generationConfig"]["responseSchema"] == subset

    async def test_image_urls_become_file_data(self, ad: Adapter, fake: Running) -> None:
        content = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
        await ad.chat(self.model_name, {"messages": [{"role": "user", "content": content}]})
        assert fake.state.last.json()["contents"][0]["parts"] == [
            {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.png"}}
        ]

    async def test_gs_objects_only_from_allowed_buckets(self, fake: Running, tmp_path: Path) -> None:
        """Gemini on Vertex reads gs:// objects with the deployment's credentials: a request may
        name objects of the buckets the operator listed (ALLOWED_GCS_BUCKETS) only."""
        deployment = {"model_name": "m", "litellm_params": self.litellm_params(fake.url)}
        allowed = {"type": "image_url", "image_url": {"url": "gs://shared-media/cat.png"}}
        async with adapter(tmp_path, [deployment], allowed_gcs_buckets=["shared-media"]) as ad:
            resp = await ad.chat("m", {"messages": [{"role": "user", "content": [allowed]}]})
            assert resp.WhichOneof("result") == "completion", resp.error
            assert fake.state.last.json()["contents"][0]["parts"] == [
                {"fileData": {"mimeType": "image/png", "fileUri": "gs://shared-media/cat.png"}}
            ]
            fake.state.reset()
            for part in (
                {"type": "image_url", "image_url": {"url": "gs://finance-exports/q3.png"}},
                {"type": "file", "file": {"file_id": "gs://finance-exports/q3.pdf"}},
                {"type": "file", "file": {"file_data": "gs://finance-exports/q3.pdf"}},
            ):
                resp = await ad.chat("m", {"messages": [{"role": "user", "content": [part]}]})
                err = resp.error
                assert (err.kind, err.http_status, err.param) == (ErrorKind.ERROR_KIND_BAD_REQUEST, 400, "messages"), (
                    part
                )
                assert "gs://finance-exports" in err.message and "ALLOWED_GCS_BUCKETS" in err.message
        assert not fake.state.requests

    async def test_logprobs(self, ad: Adapter, fake: Running) -> None:
        body = response([{"text": "Hi"}], "STOP", g.usage(2, 1), g.MODEL)
        body["candidates"][0]["logprobsResult"] = {
            "topCandidates": [
                {"candidates": [{"token": "Hi", "logProbability": -0.1}, {"token": "Yo", "logProbability": -2.5}]}
            ],
            "chosenCandidates": [{"token": "Hi", "logProbability": -0.1}],
        }
        fake.state.script("*", Reply(body=body))
        resp = await ad.chat(
            self.model_name, {"messages": [{"role": "user", "content": "hi"}], "logprobs": True, "top_logprobs": 2}
        )
        assert fake.state.last.json()["generationConfig"] == {"responseLogprobs": True, "logprobs": 2}
        lp = json.loads(resp.completion.choices[0].logprobs_json)
        assert lp["content"][0]["token"] == "Hi" and lp["content"][0]["logprob"] == -0.1
        assert [t["token"] for t in lp["content"][0]["top_logprobs"]] == ["Hi", "Yo"]

    async def test_tool_use_prompt_tokens_count_as_input(self, ad: Adapter, fake: Running) -> None:
        usage = {**g.usage(10, 5), "toolUsePromptTokenCount": 7}
        fake.state.script("*", Reply(body=response([{"text": "found"}], "STOP", usage, g.MODEL)))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "search"}]})
        assert resp.completion.usage.prompt_tokens == 17

    async def test_rate_limit_wait_comes_from_retry_info(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", g.reply_error("rate_limit"))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.retry_after_seconds == 23.0
        assert "RetryInfo" in resp.error.provider_details_json.decode()

    # --- embeddings ---------------------------------------------------------------------

    async def _embed(self, ad: Adapter, body: dict[str, Any]) -> provider_pb2.EmbedResponse:
        req = embedding_request_from_json({"model": self.model_name, **body})
        return await ad.stub.Embed(
            provider_pb2.EmbedRequest(deployment=ad.deployment(self.model_name), request=req, call_id="e"), timeout=30
        )

    async def test_embeddings_single_and_batch(self, ad: Adapter, fake: Running) -> None:
        one = await self._embed(ad, {"input": "hello world", "dimensions": 4, "task_type": "RETRIEVAL_QUERY"})
        assert one.WhichOneof("result") == "embeddings", one.error
        rec = fake.state.last
        assert rec.path == f"/v1beta/models/{g.MODEL}:embedContent"
        assert rec.json() == {
            "content": {"parts": [{"text": "hello world"}]},
            "taskType": "RETRIEVAL_QUERY",
            "outputDimensionality": 4,
        }
        assert len(one.embeddings.data[0].floats.values) == 4
        assert one.embeddings.usage.prompt_tokens == 3  # estimated: the API returns no counts

        many = await self._embed(ad, {"input": ["a", "b"], "encoding_format": "base64"})
        rec = fake.state.last
        assert rec.path == f"/v1beta/models/{g.MODEL}:batchEmbedContents"
        assert [r["model"] for r in rec.json()["requests"]] == [f"models/{g.MODEL}"] * 2
        vectors = [e.base64 for e in many.embeddings.data]
        assert len(vectors) == 2
        decoded = struct.unpack("<8f", base64.b64decode(vectors[0]))
        assert len(decoded) == 8

    async def test_embeddings_reject_token_arrays(self, ad: Adapter, fake: Running) -> None:
        resp = await self._embed(ad, {"input": [[1, 2, 3]]})
        assert resp.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and resp.error.param == "input"
