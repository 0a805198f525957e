"""Ingress dialects other than OpenAI's Chat Completions: codecs between a client API's JSON and
the pipeline's protobuf model. A dialect decodes its request into the pipeline's request (and,
where a provider speaks the same API, keeps the client's own body for it) and encodes answers,
streams and errors in its own shape; the pipeline behind it is the one every route uses."""

from __future__ import annotations

from switchyard.llm.v1 import chat_pb2


def message_text(m: chat_pb2.ChatMessage) -> str:
    """The text of an answer's message, its text parts joined (dialects without content parts)."""
    which = m.WhichOneof("content")
    if which == "text":
        return m.text
    if which == "parts":
        return "".join(p.text for p in m.parts.parts if p.WhichOneof("part") == "text")
    return ""
