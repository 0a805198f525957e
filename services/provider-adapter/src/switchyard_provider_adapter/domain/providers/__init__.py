"""Provider registry: provider name (the prefix of ``litellm_params.model``) → module."""

from __future__ import annotations

from switchyard_provider_adapter.domain.providers.anthropic import AnthropicProvider
from switchyard_provider_adapter.domain.providers.azure import AzureProvider
from switchyard_provider_adapter.domain.providers.base import Provider
from switchyard_provider_adapter.domain.providers.bedrock import BedrockProvider
from switchyard_provider_adapter.domain.providers.cohere import CohereProvider
from switchyard_provider_adapter.domain.providers.gemini import GeminiProvider, VertexProvider
from switchyard_provider_adapter.domain.providers.ollama import OllamaProvider
from switchyard_provider_adapter.domain.providers.openai import DEFAULT_API_BASES, OpenAIProvider

_OPENAI_COMPATIBLE = {
    "openai",
    "text-completion-openai",
    "custom_openai",
    "openai_like",
    "openai_compatible",
    "hosted_vllm",
    "vllm",
    "litellm_proxy",
    *DEFAULT_API_BASES,
}


def build_registry() -> dict[str, Provider]:
    registry: dict[str, Provider] = {}
    for name in _OPENAI_COMPATIBLE:
        registry[name] = OpenAIProvider(name)
    registry["anthropic"] = AnthropicProvider()
    registry["azure"] = AzureProvider()
    # One instance for both names so assumed-role credentials are cached once.
    bedrock = BedrockProvider()
    registry["bedrock"] = registry["bedrock_converse"] = bedrock
    # Vertex's OAuth2 tokens are fetched by the adapter itself (one cache per registry).
    from switchyard_provider_adapter.clients.google_auth import GoogleTokenSource

    google_tokens = GoogleTokenSource()
    registry["gemini"] = GeminiProvider("gemini")
    for name in ("vertex_ai", "vertex_ai_beta"):
        registry[name] = VertexProvider(google_tokens, name)
    for name in ("cohere", "cohere_chat"):
        registry[name] = CohereProvider(name)
    # Both names speak the native /api/chat (LiteLLM's `ollama/` used the older /api/generate).
    for name in ("ollama", "ollama_chat"):
        registry[name] = OllamaProvider(name)
    return registry
