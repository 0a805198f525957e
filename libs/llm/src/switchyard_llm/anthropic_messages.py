"""Which deployments speak Anthropic's Messages API themselves.

A ``/v1/messages`` request sent to such a deployment goes to the provider as the client wrote it
(the edge decides per attempt, the provider adapter carries it out); every other deployment gets
its translation into the chat model. One rule for both services, so they never disagree."""

from __future__ import annotations

# Providers whose Claude models answer the Messages API: Anthropic's own API, Bedrock's
# InvokeModel (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html)
# and Vertex AI's rawPredict (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude).
_CLAUDE_HOSTS = frozenset({"bedrock", "bedrock_converse", "vertex_ai", "vertex_ai_beta"})


def is_claude(model: str) -> bool:
    """A Claude model id: ``claude-...`` (Anthropic, Vertex ``claude-sonnet-4-5@20250929``) or
    Bedrock's ``anthropic.claude-...`` with any inference-profile prefix."""
    return "anthropic.claude" in model or model.startswith("claude")


def speaks_messages(provider: str, model: str) -> bool:
    """Whether a deployment (its provider family and model) is sent Messages requests natively."""
    if provider == "anthropic":
        return True
    return provider in _CLAUDE_HOSTS and is_claude(model)
