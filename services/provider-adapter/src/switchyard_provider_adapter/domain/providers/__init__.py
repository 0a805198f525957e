"""Provider registry: provider name (the prefix of ``litellm_params.model``) → module."""

from __future__ import annotations

from switchyard_provider_adapter.domain.providers.anthropic import AnthropicProvider
from switchyard_provider_adapter.domain.providers.azure import AzureProvider
from switchyard_provider_adapter.domain.providers.base import Provider
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
    return registry
