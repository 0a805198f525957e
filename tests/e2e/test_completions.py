"""Legacy text completions (/v1/completions) with the official SDK: natively to a deployment that
serves them (`fake-chat`), through chat to one that does not (`anthropic-chat`), which refuses what
chat cannot do with a clear 400."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from devstack import stack
from e2e.support import MASTER_KEY, wait_for_spend
from switchyard_fakes import anthropic_server
from switchyard_fakes.anthropic_server import REPLY as ANTHROPIC_REPLY
from switchyard_fakes.openai_server import COMPLETION_REPLY

NATIVE, TRANSLATED = "fake-chat", "anthropic-chat"
PRICES = {NATIVE: (Decimal("0.000001"), Decimal("0.000002")), TRANSLATED: (Decimal("0.000003"), Decimal("0.000015"))}
ANSWERS = {NATIVE: COMPLETION_REPLY, TRANSLATED: ANTHROPIC_REPLY}
BOTH = pytest.mark.parametrize("model", [NATIVE, TRANSLATED])


@pytest.fixture(scope="module")
def anthropic_fake(stack_cfg: stack.StackConfig) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack_cfg.fake_port + 1}", timeout=10) as c:
        yield c


def _cost(model: str, usage: Any) -> Decimal:
    inp, out = PRICES[model]
    return inp * usage.prompt_tokens + out * usage.completion_tokens


@BOTH
def test_a_string_prompt_is_completed_billed_and_recorded(
    client: openai.OpenAI, http: httpx.Client, model: str
) -> None:
    raw = client.completions.with_raw_response.create(model=model, prompt="Once upon a time", max_tokens=30)
    c = raw.parse()
    assert c.object == "text_completion" and [ch.text for ch in c.choices] == [ANSWERS[model]]
    assert c.choices[0].index == 0 and c.choices[0].finish_reason == "stop"
    assert c.usage is not None and Decimal(raw.headers["x-litellm-response-cost"]) == _cost(model, c.usage)
    [row] = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert row["call_type"] == "text_completion" and Decimal(str(row["spend"])) == _cost(model, c.usage)


@BOTH
def test_a_list_of_prompts_gets_n_choices_each(
    client: openai.OpenAI, fake: httpx.Client, anthropic_fake: httpx.Client, model: str
) -> None:
    marker = uuid.uuid4().hex
    # Anthropic has no `n` (a clear 400 there, as for chat).
    n = 2 if model == NATIVE else 1
    c = client.completions.create(model=model, prompt=[f"one {marker}", f"two {marker}"], n=n, max_tokens=30)
    assert [ch.index for ch in c.choices] == list(range(2 * n))
    assert [ch.text for ch in c.choices] == [ANSWERS[model]] * 2 * n
    if model == NATIVE:
        sent = next(e for e in reversed(fake.get("/__log").json()) if marker in json.dumps(e["body"]))
        assert sent["path"] == "/v1/completions" and sent["body"]["prompt"] == [f"one {marker}", f"two {marker}"]
    else:
        sent = [e for e in anthropic_fake.get("/__log").json() if marker in json.dumps(e["body"])]
        assert len(sent) == 2, "one chat call per prompt"


@BOTH
def test_a_streamed_completion_with_usage(client: openai.OpenAI, http: httpx.Client, model: str) -> None:
    raw = client.completions.with_raw_response.create(
        model=model, prompt=["a", "b"], stream=True, stream_options={"include_usage": True}
    )
    chunks = list(raw.parse())
    texts: dict[int, str] = {}
    for chunk in chunks[:-1]:
        assert chunk.object == "text_completion"
        for ch in chunk.choices:
            texts[ch.index] = texts.get(ch.index, "") + ch.text
    assert texts == {0: ANSWERS[model], 1: ANSWERS[model]}
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    [row] = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert row["call_type"] == "text_completion" and row["stream"] is True
    assert Decimal(str(row["spend"])) == _cost(model, usage)


def test_echo_and_suffix_go_to_a_deployment_that_serves_completions(client: openai.OpenAI, fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    c = client.completions.create(model=NATIVE, prompt=f"Start {marker}", echo=True, suffix="END", logprobs=1)
    assert c.choices[0].text == f"Start {marker}" + COMPLETION_REPLY
    assert c.choices[0].logprobs is not None and c.choices[0].logprobs.tokens[0] == "Start"
    sent = next(e["body"] for e in reversed(fake.get("/__log").json()) if marker in json.dumps(e["body"]))
    assert sent["echo"] is True and sent["suffix"] == "END" and sent["logprobs"] == 1


@pytest.mark.parametrize(("param", "value"), [("echo", True), ("suffix", "END"), ("logprobs", 2), ("best_of", 2)])
def test_what_chat_cannot_do_is_a_clear_400(
    client: openai.OpenAI, anthropic_fake: httpx.Client, param: str, value: Any
) -> None:
    marker = uuid.uuid4().hex
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model=TRANSLATED, prompt=f"x {marker}", **{param: value})
    assert info.value.body["param"] == param
    assert "serves /v1/completions itself" in info.value.body["message"]
    assert not [e for e in anthropic_fake.get("/__log").json() if marker in json.dumps(e["body"])]
    dropped = client.completions.create(
        model=TRANSLATED, prompt=f"x {marker}", extra_body={"drop_params": True}, **{param: value}
    )
    assert dropped.choices[0].text == ANTHROPIC_REPLY


def test_bad_input_is_a_400_naming_its_parameter(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model=NATIVE, prompt=[1, 2, 3])
    assert info.value.body["param"] == "prompt" and "token ids" in info.value.body["message"]


def test_an_over_budget_key_gets_429_in_openai_shape(http: httpx.Client, base_url: str) -> None:
    key = http.post("/key/generate", json={"max_budget": "0.0001"}).json()["key"]
    user = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)
    for _ in range(10):
        try:
            raw = user.completions.with_raw_response.create(model=TRANSLATED, prompt="count me", max_tokens=20)
        except openai.RateLimitError as exc:
            assert exc.status_code == 429 and exc.body["type"] == "budget_exceeded"
            return
        wait_for_spend(http, raw.headers["x-litellm-call-id"])
    raise AssertionError("the budget was never enforced")


def test_a_completion_stream_cut_by_the_provider_ends_with_an_error_frame(
    base_url: str, anthropic_fake: httpx.Client
) -> None:
    frames = anthropic_server.stream_frames(
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Half"}])], "end_turn", 5, 3
    )
    error = 'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    anthropic_fake.post(
        "/__script",
        json={
            "model": "*",
            "replies": [{"frames": [f.decode() for f in frames[:4]] + [error], "content_type": "text/event-stream"}],
        },
    ).raise_for_status()
    with httpx.stream(
        "POST",
        f"{base_url}/v1/completions",
        json={"model": TRANSLATED, "prompt": "x", "stream": True},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=30,
    ) as resp:
        frames_seen = [line.removeprefix("data: ") for line in resp.iter_lines() if line.startswith("data: ")]
    assert json.loads(frames_seen[0])["choices"][0]["text"] == "Half"
    assert "Overloaded" in json.loads(frames_seen[-1])["error"]["message"]
