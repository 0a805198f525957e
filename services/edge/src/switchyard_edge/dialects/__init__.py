"""Ingress dialects other than Chat Completions: each decodes its own JSON into the pipeline's
chat request and encodes the pipeline's answers (and streams) back into its own shapes."""

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
