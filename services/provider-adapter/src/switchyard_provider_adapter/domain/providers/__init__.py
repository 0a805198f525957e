"""Provider registry: provider name (the prefix of ``litellm_params.model``) → module."""

from __future__ import annotations

from switchyard_provider_adapter.domain.providers.anthropic import AnthropicProvider
from switchyard_provider_adapter.domain.providers.azure import AzureProvider, EntraTokenSource
from switchyard_provider_adapter.domain.providers.base import Provider
from switchyard_provider_adapter.domain.providers.bedrock.provider import BedrockProvider, RoleSource
from switchyard_provider_adapter.domain.providers.cohere import CohereProvider
from switchyard_provider_adapter.domain.providers.gemini.provider import GeminiProvider, TokenSource, VertexProvider
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


def build_registry(
    *, aws_roles: RoleSource, google_tokens: TokenSource, entra_tokens: EntraTokenSource
) -> dict[str, Provider]:
    """The providers, given the token sources (clients/) that fetch their temporary credentials:
    one of each per registry, so every deployment shares its cache."""
    registry: dict[str, Provider] = {}
    for name in _OPENAI_COMPATIBLE:
        registry[name] = OpenAIProvider(name)
    registry["anthropic"] = AnthropicProvider()
    registry["azure"] = AzureProvider(entra_tokens)
    # One instance for both names.
    bedrock = BedrockProvider(aws_roles)
    registry["bedrock"] = registry["bedrock_converse"] = bedrock
    registry["gemini"] = GeminiProvider("gemini")
    for name in ("vertex_ai", "vertex_ai_beta"):
        registry[name] = VertexProvider(google_tokens, name)
    for name in ("cohere", "cohere_chat"):
        registry[name] = CohereProvider(name)
    # Both names speak the native /api/chat (LiteLLM's `ollama/` used the older /api/generate).
    for name in ("ollama", "ollama_chat"):
        registry[name] = OllamaProvider(name)
    return registry
