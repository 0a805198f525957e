"""The official OpenAI SDK through the whole stack to the fake Ollama server (native /api/chat,
NDJSON streaming)."""

from __future__ import annotations

import openai
import pytest

from switchyard_fakes.ollama_server import REPLY


def test_non_streaming_chat(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="ollama-chat", messages=[{"role": "user", "content": "Say hello"}], max_tokens=50
    )
    assert completion.choices[0].message.content == REPLY
    assert completion.usage is not None and completion.usage.completion_tokens == len(REPLY.split())


def test_streaming_chat(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="ollama-chat",
            messages=[{"role": "user", "content": "Stream please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert len({c.id for c in chunks}) == 1
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 2


def test_image_links_are_refused_with_a_clear_400(client: openai.OpenAI) -> None:
    content = [{"type": "text", "text": "?"}, {"type": "image_url", "image_url": {"url": "https://ex.com/a.png"}}]
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="ollama-chat", messages=[{"role": "user", "content": content}])
    assert "base64" in str(info.value.message)
