"""LiteLLM-style ``config.yaml``: ``model_list`` deployments and the settings sections.

The router and the provider adapter read the same file and derive the same deployment ids.
Only the adapter resolves credentials (``os.environ/NAME`` references and literal secrets);
``Deployment`` protos handed between services never carry them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from switchyard.llm.v1 import deployment_pb2

# Providers recognised as the prefix of `litellm_params.model` ("anthropic/claude-...").
KNOWN_PROVIDERS = frozenset(
    {
        "openai",
        "text-completion-openai",
        "azure",
        "azure_ai",
        "azure_text",
        "anthropic",
        "gemini",
        "vertex_ai",
        "vertex_ai_beta",
        "bedrock",
        "bedrock_converse",
        "cohere",
        "cohere_chat",
        "ollama",
        "ollama_chat",
        "mistral",
        "codestral",
        "groq",
        "together_ai",
        "fireworks_ai",
        "deepseek",
        "xai",
        "openrouter",
        "perplexity",
        "hosted_vllm",
        "vllm",
        "lm_studio",
        "llamafile",
        "openai_like",
        "custom_openai",
        "openai_compatible",
        "deepinfra",
        "cerebras",
        "nvidia_nim",
        "sambanova",
        "databricks",
        "huggingface",
        "watsonx",
        "litellm_proxy",
        "nebius",
        "novita",
        "hyperbolic",
        "lambda_ai",
        "moonshot",
        "dashscope",
        "github",
        "voyage",
        "jina_ai",
    }
)

# litellm_params keys that are credentials: only the provider adapter ever reads them.
SECRET_PARAMS = frozenset(
    {
        "api_key",
        "azure_ad_token",
        "azure_client_secret",
        "client_secret",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_web_identity_token",
        "vertex_credentials",
        "azure_password",
        "azure_username",
        "aws_bearer_token_bedrock",
        "api_token",
    }
)

# litellm_params keys that steer routing rather than the provider call.
ROUTING_PARAMS = frozenset(
    {
        "model",
        "rpm",
        "tpm",
        "max_parallel_requests",
        "weight",
        "order",
        "tags",
        "timeout",
        "stream_timeout",
        "custom_llm_provider",
        "api_base",
        "base_url",
        "drop_params",
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_second",
        "output_cost_per_second",
        "cache_read_input_token_cost",
        "cache_creation_input_token_cost",
        "output_cost_per_reasoning_token",
        "region_name",
        "num_retries",
        "max_retries",
    }
)

KNOWN_TOP_LEVEL = frozenset(
    {
        "model_list",
        "litellm_settings",
        "router_settings",
        "general_settings",
        "environment_variables",
        "guardrails",
        "credential_list",
    }
)

_PRICE_KEYS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
    "output_cost_per_reasoning_token",
    "input_cost_per_second",
    "output_cost_per_second",
)


class ConfigError(ValueError):
    """The config file cannot be used; the message names the entry at fault."""


def _infer_provider(model: str, api_base: str | None) -> str:
    m = model.lower()
    if m.startswith(
        (
            "gpt-",
            "o1",
            "o3",
            "o4",
            "chatgpt-",
            "text-embedding-",
            "dall-e",
            "gpt-image",
            "davinci",
            "babbage",
            "omni-moderation",
            "text-moderation",
        )
    ):
        return "openai"
    if m.startswith("claude"):
        return "anthropic"
    if m.startswith("gemini"):
        return "gemini"
    if m.startswith(("command", "embed-english", "embed-multilingual", "embed-v4")):
        return "cohere"
    if m.startswith(("mistral-", "open-mistral", "codestral", "ministral", "magistral", "pixtral")):
        return "mistral"
    if api_base:
        return "openai"
    raise ConfigError(f"cannot tell the provider of model {model!r}; write it as '<provider>/{model}'")


def split_model(model: str, *, custom_llm_provider: str | None = None, api_base: str | None = None) -> tuple[str, str]:
    """``"anthropic/claude-x"`` → ``("anthropic", "claude-x")``; bare names are inferred."""
    if custom_llm_provider:
        prefix = f"{custom_llm_provider}/"
        return custom_llm_provider, model[len(prefix) :] if model.startswith(prefix) else model
    head, sep, rest = model.partition("/")
    if sep and head in KNOWN_PROVIDERS:
        return head, rest
    return _infer_provider(model, api_base), model


def deployment_id(model_name: str, litellm_params: Mapping[str, Any]) -> str:
    """A stable id from the deployment's definition (used when ``model_info.id`` is absent)."""
    blob = orjson.dumps(
        {"model_name": model_name, "litellm_params": litellm_params}, option=orjson.OPT_SORT_KEYS, default=str
    )
    return hashlib.sha256(blob).hexdigest()


def _float(v: Any) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"expected a number, got {v!r}") from None


@dataclass(frozen=True)
class DeploymentConfig:
    id: str
    model_name: str
    provider: str
    model: str
    litellm_params: Mapping[str, Any]
    model_info: Mapping[str, Any]

    @property
    def api_base(self) -> str:
        return str(self.litellm_params.get("api_base") or self.litellm_params.get("base_url") or "")

    def public_params(self) -> dict[str, Any]:
        """Provider params that are neither credentials nor routing controls."""
        return {k: v for k, v in self.litellm_params.items() if k not in SECRET_PARAMS and k not in ROUTING_PARAMS}

    def to_proto(self) -> deployment_pb2.Deployment:
        p = self.litellm_params
        info = self.model_info
        dep = deployment_pb2.Deployment(
            id=self.id,
            model_group=self.model_name,
            provider=self.provider,
            model=self.model,
            api_base=self.api_base,
            drop_params=bool(p.get("drop_params", False)),
            max_input_tokens=int(info.get("max_input_tokens") or 0),
            max_output_tokens=int(info.get("max_output_tokens") or info.get("max_tokens") or 0),
        )
        public = self.public_params()
        if public:
            dep.params_json = orjson.dumps(public, default=str)
        if p.get("timeout") is not None:
            dep.timeout_seconds = float(p["timeout"])
        if p.get("stream_timeout") is not None:
            dep.stream_timeout_seconds = float(p["stream_timeout"])
        pricing = dep.pricing
        pricing.base_model = str(info.get("base_model") or "")
        for key in _PRICE_KEYS:
            value = _float(info.get(key, p.get(key)))
            if value is not None:
                setattr(pricing, key, value)
        return dep


@dataclass
class GatewayConfig:
    deployments: list[DeploymentConfig] = field(default_factory=list)
    litellm_settings: dict[str, Any] = field(default_factory=dict)
    router_settings: dict[str, Any] = field(default_factory=dict)
    general_settings: dict[str, Any] = field(default_factory=dict)
    environment_variables: dict[str, Any] = field(default_factory=dict)
    # Problems worth telling the operator at start (unknown keys and the like).
    warnings: list[str] = field(default_factory=list)

    def model_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for d in self.deployments:
            seen.setdefault(d.model_name, None)
        return list(seen)


def parse_config(data: Mapping[str, Any] | None) -> GatewayConfig:
    data = data or {}
    if not isinstance(data, Mapping):
        raise ConfigError("the config must be a YAML mapping")
    cfg = GatewayConfig()
    for key in data:
        if key not in KNOWN_TOP_LEVEL:
            cfg.warnings.append(f"unknown top-level key {key!r} ignored")
    for section in ("litellm_settings", "router_settings", "general_settings", "environment_variables"):
        value = data.get(section) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{section} must be a mapping")
        setattr(cfg, section, dict(value))
    model_list = data.get("model_list") or []
    if not isinstance(model_list, list):
        raise ConfigError("model_list must be a list")
    ids: set[str] = set()
    for i, entry in enumerate(model_list):
        where = f"model_list[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a mapping")
        name = entry.get("model_name")
        params = entry.get("litellm_params")
        if not name or not isinstance(name, str):
            raise ConfigError(f"{where}: model_name is required")
        if not isinstance(params, Mapping) or not params.get("model"):
            raise ConfigError(f"{where} ({name}): litellm_params.model is required")
        info = entry.get("model_info") or {}
        if not isinstance(info, Mapping):
            raise ConfigError(f"{where} ({name}): model_info must be a mapping")
        for key in entry:
            if key not in ("model_name", "litellm_params", "model_info"):
                cfg.warnings.append(f"{where} ({name}): unknown key {key!r} ignored")
        try:
            provider, model = split_model(
                str(params["model"]),
                custom_llm_provider=params.get("custom_llm_provider"),
                api_base=params.get("api_base") or params.get("base_url"),
            )
        except ConfigError as exc:
            raise ConfigError(f"{where} ({name}): {exc}") from None
        dep_id = str(info.get("id") or deployment_id(name, params))
        if dep_id in ids:
            raise ConfigError(f"{where} ({name}): duplicate deployment id {dep_id!r}")
        ids.add(dep_id)
        cfg.deployments.append(DeploymentConfig(dep_id, name, provider, model, dict(params), dict(info)))
    return cfg


def load_config(path: Path | str) -> GatewayConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data)


def resolve_value(value: Any) -> Any:
    """Resolve LiteLLM's ``os.environ/NAME`` references (the config format's own secret syntax;
    used by the provider adapter only)."""
    if isinstance(value, str) and value.startswith("os.environ/"):
        name = value.removeprefix("os.environ/")
        resolved = os.environ.get(name)
        if resolved is None:
            raise ConfigError(f"environment variable {name} is not set")
        return resolved
    return value
