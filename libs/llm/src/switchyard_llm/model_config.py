"""LiteLLM-style ``config.yaml``: ``model_list`` deployments and the settings sections.

The router and the provider adapter read the same file and derive the same deployment ids.
Only the adapter resolves credentials (``os.environ/NAME`` references and literal secrets);
``Deployment`` protos handed between services never carry them."""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from switchyard.llm.v1 import deployment_pb2
from switchyard_common.settings import ConfigError

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
        "output_cost_per_image",
        "input_cost_per_pixel",
        "region_name",
        "num_retries",
        "max_retries",
        "cooldown_time",
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
        "callback_settings",
    }
)

# Keys of each `model_list` entry.
_ENTRY_KEYS = frozenset({"model_name", "litellm_params", "model_info"})

# router_settings keys the router applies.
ROUTER_SETTINGS_USED = frozenset(
    {
        "routing_strategy",
        "routing_strategy_args",
        "num_retries",
        "retry_policy",
        "model_group_retry_policy",
        "retry_after",
        "timeout",
        "stream_timeout",
        "allowed_fails",
        "allowed_fails_policy",
        "cooldown_time",
        "disable_cooldowns",
        "fallbacks",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "default_fallbacks",
        "max_fallbacks",
        "model_group_alias",
        "enable_pre_call_checks",
        "enable_pre_call_check",
        "enable_tag_filtering",
        "tag_filtering_match_any",
        "default_max_parallel_requests",
        "enable_health_check_routing",
        "optional_pre_call_checks",
    }
)
# LiteLLM router_settings that have no effect here, with the reason shown to the operator.
ROUTER_SETTINGS_NOT_APPLIED = {
    "redis_host": "the router uses REDIS_URL",
    "redis_port": "the router uses REDIS_URL",
    "redis_password": "the router uses REDIS_URL",
    "redis_db": "the router uses REDIS_URL",
    "redis_url": "the router uses REDIS_URL",
    "cache_kwargs": "the router uses REDIS_URL",
    "client_ttl": "connections are pooled by the provider adapter",
    "debug_level": "use LOG_LEVEL",
    "set_verbose": "use LOG_LEVEL",
}
# litellm_settings keys some Switchyard service applies.
LITELLM_SETTINGS_USED = frozenset(
    {
        "num_retries",
        "request_timeout",
        "fallbacks",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "default_fallbacks",
        "max_fallbacks",
        "allowed_fails",
        "cooldown_time",
        "retry_policy",
        "drop_params",
        # Delivered by the callbacks service, from the usage events.
        "success_callback",
        "failure_callback",
        "callbacks",
        "turn_off_message_logging",
    }
)
# general_settings keys some Switchyard service applies.
GENERAL_SETTINGS_USED = frozenset(
    {
        "background_health_checks",
        "health_check_interval",
        "health_check_timeout",
        "health_check_concurrency",
        "max_parallel_requests",
        "store_model_in_db",
    }
)
GENERAL_SETTINGS_NOT_APPLIED = {
    "master_key": "set MASTER_KEY in the environment of the auth service",
    "database_url": "each service reads DATABASE_URL from its environment",
    "database_connection_pool_limit": "each service sizes its own pool (DATABASE_POOL_MAX_SIZE)",
    "proxy_batch_write_at": "spend is written from Kafka usage events as they arrive",
    "disable_spend_logs": "spend rows are the ledger budgets settle against; they cannot be turned off",
    "alerting": "budget alerts are copilot-budget's (POST /copilot/alerts), not Slack/webhook alerting",
    "alerting_threshold": "budget alerts are copilot-budget's, not Slack/webhook alerting",
    "otel": "traces are exported over OTLP per OTEL_* environment variables",
}
# LiteLLM litellm_settings that have no effect here, with the reason shown to the operator.
LITELLM_SETTINGS_NOT_APPLIED = {
    "cache": "the response cache is not implemented; requests always reach the provider",
    "cache_params": "the response cache is not implemented",
    "set_verbose": "use LOG_LEVEL",
    "json_logs": "logs are always JSON",
    "service_callbacks": "Redis/PostgreSQL health is on each service's /metrics",
    "redact_user_api_key_info": "logging callbacks carry key hashes and aliases only, never keys",
    "telemetry": "Switchyard sends no usage telemetry of its own",
    "ssl_verify": "provider TLS is always verified",
    "force_ipv4": "the provider adapter resolves as the system does",
    "max_budget": "set budgets on keys, teams or users (/key/generate, /team/new)",
    "budget_duration": "set budget_duration on keys, teams or users",
    "modify_params": "requests are sent as the client wrote them (drop_params aside)",
    "return_response_headers": "provider rate-limit headers are always passed through",
}

_PRICE_KEYS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
    "output_cost_per_reasoning_token",
    "input_cost_per_second",
    "output_cost_per_second",
    "output_cost_per_image",
    "input_cost_per_pixel",
)


# Provider of a `model: "*"` deployment until a request names the model.
WILDCARD_PROVIDER = "*"


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
    if model == "*":
        # `model: "*"` passes any model through; the provider comes from the requested name.
        return WILDCARD_PROVIDER, model
    return _infer_provider(model, api_base), model


def deployment_id(model_name: str, litellm_params: Mapping[str, Any]) -> str:
    """A stable id from the deployment's definition (used when ``model_info.id`` is absent)."""
    blob = orjson.dumps(
        {"model_name": model_name, "litellm_params": litellm_params}, option=orjson.OPT_SORT_KEYS, default=str
    )
    return hashlib.sha256(blob).hexdigest()


_INT64 = 1 << 63


def _float(v: Any) -> float | None:
    """A non-negative finite number (weights, prices, timeouts), or None when unset."""
    if v is None:
        return None
    try:
        number = float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"expected a number, got {v!r}") from None
    if not 0 <= number < math.inf:
        raise ConfigError(f"expected a non-negative number, got {v!r}")
    return number


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

    def _int_param(self, key: str) -> int | None:
        value = self.litellm_params.get(key, self.model_info.get(key))
        if value is None:
            return None
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"deployment {self.id!r} ({self.model_name}): {key} must be an integer") from None
        if not 0 <= number < _INT64:
            raise ConfigError(f"deployment {self.id!r} ({self.model_name}): {key} must be between 0 and {_INT64 - 1}")
        return number

    @property
    def rpm(self) -> int | None:
        """Requests per minute this deployment accepts (`litellm_params.rpm`)."""
        return self._int_param("rpm")

    @property
    def tpm(self) -> int | None:
        """Tokens per minute this deployment accepts (`litellm_params.tpm`)."""
        return self._int_param("tpm")

    @property
    def max_parallel_requests(self) -> int | None:
        return self._int_param("max_parallel_requests")

    @property
    def weight(self) -> float | None:
        return _float(self.litellm_params.get("weight"))

    @property
    def order(self) -> int | None:
        """Priority tier: lower orders are tried first."""
        return self._int_param("order")

    @property
    def cooldown_time(self) -> float | None:
        return _float(self.litellm_params.get("cooldown_time"))

    @property
    def tags(self) -> tuple[str, ...]:
        raw = self.litellm_params.get("tags") or ()
        return tuple(str(t) for t in (raw if isinstance(raw, list | tuple) else [raw]))

    @property
    def access_groups(self) -> tuple[str, ...]:
        raw = self.model_info.get("access_groups") or ()
        return tuple(str(t) for t in (raw if isinstance(raw, list | tuple) else [raw]))

    @property
    def mode(self) -> str:
        """chat, embedding, image_generation, ... (`model_info.mode`; chat when unset)."""
        return str(self.model_info.get("mode") or "chat")

    def secret_params(self) -> dict[str, Any]:
        """The credential params (only the provider adapter may resolve or use them)."""
        return {k: v for k, v in self.litellm_params.items() if k in SECRET_PARAMS}

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
            max_input_tokens=_token_count(info.get("max_input_tokens")),
            max_output_tokens=_token_count(info.get("max_output_tokens") or info.get("max_tokens")),
        )
        endpoints = info.get("supported_endpoints") or ()
        if isinstance(endpoints, str) or not all(isinstance(e, str) for e in endpoints):
            raise ConfigError("model_info.supported_endpoints must be a list of API paths")
        dep.supported_endpoints.extend(endpoints)
        public = self.public_params()
        if public:
            dep.params_json = orjson.dumps(public, default=str)
        for key, field_name in (("timeout", "timeout_seconds"), ("stream_timeout", "stream_timeout_seconds")):
            if (seconds := _float(p.get(key))) is not None:
                if not seconds:
                    raise ConfigError(f"{key} must be more than 0 seconds")
                setattr(dep, field_name, seconds)
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
    # Per-callback settings (LiteLLM's top-level ``callback_settings``), e.g. generic_api's headers.
    callback_settings: dict[str, Any] = field(default_factory=dict)
    # Problems worth telling the operator at start (unknown keys and the like).
    warnings: list[str] = field(default_factory=list)

    def model_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for d in self.deployments:
            seen.setdefault(d.model_name, None)
        return list(seen)


def _check_section_keys(cfg: GatewayConfig) -> None:
    for key in cfg.router_settings:
        if key in ROUTER_SETTINGS_NOT_APPLIED:
            cfg.warnings.append(f"router_settings.{key} has no effect: {ROUTER_SETTINGS_NOT_APPLIED[key]}")
        elif key not in ROUTER_SETTINGS_USED:
            cfg.warnings.append(f"router_settings.{key} is not a setting Switchyard knows; ignored")
    for key in cfg.litellm_settings:
        if key in LITELLM_SETTINGS_USED or key in ROUTER_SETTINGS_USED:
            continue
        if key in LITELLM_SETTINGS_NOT_APPLIED:
            cfg.warnings.append(f"litellm_settings.{key} has no effect: {LITELLM_SETTINGS_NOT_APPLIED[key]}")
        else:
            cfg.warnings.append(f"litellm_settings.{key} is not used by Switchyard; ignored")
    for key in cfg.general_settings:
        if key in GENERAL_SETTINGS_NOT_APPLIED:
            cfg.warnings.append(f"general_settings.{key} has no effect: {GENERAL_SETTINGS_NOT_APPLIED[key]}")
        elif key not in GENERAL_SETTINGS_USED:
            cfg.warnings.append(f"general_settings.{key} is not used by Switchyard; ignored")


def parse_deployment(entry: Any, where: str, warnings: list[str] | None = None) -> DeploymentConfig:
    """One ``model_list`` entry (also the body of ``/model/new``) → a deployment."""
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
    if warnings is not None:
        for key in entry:
            if key not in _ENTRY_KEYS:
                warnings.append(f"{where} ({name}): unknown key {key!r} ignored")
    try:
        provider, model = split_model(
            str(params["model"]),
            custom_llm_provider=params.get("custom_llm_provider"),
            api_base=params.get("api_base") or params.get("base_url"),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where} ({name}): {exc}") from None
    dep_id = str(info.get("id") or deployment_id(name, params))
    dep = DeploymentConfig(dep_id, name, provider, model, dict(params), dict(info))
    # Numbers are checked now so a bad value fails at start, not on a request.
    for prop in ("rpm", "tpm", "max_parallel_requests", "order"):
        getattr(dep, prop)
    try:
        _ = (dep.weight, dep.cooldown_time)
        dep.to_proto()  # timeouts, token limits and prices
    except ConfigError as exc:
        raise ConfigError(f"{where} ({name}): {exc}") from None
    return dep


def _token_count(v: Any) -> int:
    """``max_input_tokens`` and friends: a non-negative integer (0 when unset)."""
    if v is None or v == "":
        return 0
    try:
        number = int(v)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"token limits must be integers, got {v!r}") from None
    if not 0 <= number < _INT64:
        raise ConfigError(f"token limits must be between 0 and {_INT64 - 1}, got {v!r}")
    return number


def parse_config(data: Mapping[str, Any] | None) -> GatewayConfig:
    data = data or {}
    if not isinstance(data, Mapping):
        raise ConfigError("the config must be a YAML mapping")
    cfg = GatewayConfig()
    for key in data:
        if key not in KNOWN_TOP_LEVEL:
            cfg.warnings.append(f"unknown top-level key {key!r} ignored")
    for section in (
        "litellm_settings",
        "router_settings",
        "general_settings",
        "environment_variables",
        "callback_settings",
    ):
        value = data.get(section) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{section} must be a mapping")
        setattr(cfg, section, dict(value))
    _check_section_keys(cfg)
    model_list = data.get("model_list") or []
    if not isinstance(model_list, list):
        raise ConfigError("model_list must be a list")
    ids: set[str] = set()
    for i, entry in enumerate(model_list):
        where = f"model_list[{i}]"
        dep = parse_deployment(entry, where, cfg.warnings)
        if dep.id in ids:
            raise ConfigError(f"{where} ({dep.model_name}): duplicate deployment id {dep.id!r}")
        ids.add(dep.id)
        cfg.deployments.append(dep)
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


ENV_REFERENCE = "os.environ/"


def is_env_reference(value: Any) -> bool:
    """Whether ``value`` is an ``os.environ/NAME`` reference. Only deployments of config.yaml may
    use them: one added at runtime could otherwise read the provider adapter's environment."""
    return isinstance(value, str) and value.startswith(ENV_REFERENCE)


def resolve_value(value: Any) -> Any:
    """Resolve LiteLLM's ``os.environ/NAME`` references (the config format's own secret syntax;
    used by the provider adapter only, for its own config.yaml)."""
    if is_env_reference(value):
        name = value.removeprefix(ENV_REFERENCE)
        resolved = os.environ.get(name)
        if resolved is None:
            raise ConfigError(f"environment variable {name} is not set")
        return resolved
    return value
