"""The router's settings, read once from config.yaml's ``router_settings`` (which win) and
``litellm_settings``, with LiteLLM's names and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_common.settings import ConfigError
from switchyard_llm.model_config import GatewayConfig

STRATEGIES = frozenset(
    {
        "simple-shuffle",
        "least-busy",
        "latency-based-routing",
        "usage-based-routing",
        "usage-based-routing-v2",
        "cost-based-routing",
    }
)

# LiteLLM exception class names (RetryPolicy / AllowedFailsPolicy fields without their suffix)
# → the error kinds they cover.
EXCEPTION_KINDS: dict[str, tuple[int, ...]] = {
    "BadRequestError": (
        ErrorKind.ERROR_KIND_BAD_REQUEST,
        ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS,
        ErrorKind.ERROR_KIND_UNPROCESSABLE,
    ),
    "AuthenticationError": (ErrorKind.ERROR_KIND_AUTHENTICATION,),
    "PermissionDeniedError": (ErrorKind.ERROR_KIND_PERMISSION_DENIED,),
    "NotFoundError": (ErrorKind.ERROR_KIND_NOT_FOUND,),
    "TimeoutError": (ErrorKind.ERROR_KIND_TIMEOUT,),
    "RateLimitError": (ErrorKind.ERROR_KIND_RATE_LIMIT,),
    "ContentPolicyViolationError": (ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION,),
    "ContextWindowExceededError": (ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,),
    "InternalServerError": (ErrorKind.ERROR_KIND_INTERNAL_SERVER,),
    "BadGatewayError": (ErrorKind.ERROR_KIND_BAD_GATEWAY,),
    "ServiceUnavailableError": (ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE,),
    "APIConnectionError": (ErrorKind.ERROR_KIND_API_CONNECTION,),
}

# Errors that cool a deployment down at once (LiteLLM: 429, and the non-retryable 401/404/408).
IMMEDIATE_COOLDOWN = frozenset(
    {
        ErrorKind.ERROR_KIND_RATE_LIMIT,
        ErrorKind.ERROR_KIND_AUTHENTICATION,
        ErrorKind.ERROR_KIND_NOT_FOUND,
        ErrorKind.ERROR_KIND_TIMEOUT,
    }
)
# Errors that say nothing about the deployment's health (the request was at fault).
NOT_A_DEPLOYMENT_FAILURE = frozenset(
    {
        ErrorKind.ERROR_KIND_BAD_REQUEST,
        ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
        ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION,
        ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS,
        ErrorKind.ERROR_KIND_UNPROCESSABLE,
        ErrorKind.ERROR_KIND_GUARDRAIL_BLOCKED,
        ErrorKind.ERROR_KIND_BUDGET_EXCEEDED,
    }
)


def _kind_map(raw: Any, suffix: str, where: str) -> dict[int, int]:
    """``{"RateLimitErrorRetries": 3}`` → ``{ERROR_KIND_RATE_LIMIT: 3}``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping like {{'RateLimitError{suffix}': 3}}")
    out: dict[int, int] = {}
    for name, value in raw.items():
        base = str(name).removesuffix(suffix)
        kinds = EXCEPTION_KINDS.get(base)
        if kinds is None or not str(name).endswith(suffix):
            known = ", ".join(f"{n}{suffix}" for n in EXCEPTION_KINDS)
            raise ConfigError(f"{where}: unknown key {name!r} (known: {known})")
        if value is None:
            continue
        try:
            count = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}.{name} must be an integer") from None
        for kind in kinds:
            out[kind] = count
    return out


def fallback_map(entries: Any, where: str) -> dict[str, list[str]]:
    """``[{"gpt-4o": ["claude"]}]`` (LiteLLM's list of one-key mappings) → ``{"gpt-4o": ["claude"]}``."""
    out: dict[str, list[str]] = {}
    if entries is None:
        return out
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, list):
        raise ConfigError(f"{where} must be a list like [{{'model-a': ['model-b']}}]")
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a list like [{{'model-a': ['model-b']}}]")
        for k, v in entry.items():
            out.setdefault(str(k), []).extend(str(x) for x in (v if isinstance(v, list) else [v]))
    return out


def _num(value: Any, where: str, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number") from None


def _opt_num(value: Any, where: str) -> float | None:
    return None if value is None else _num(value, where, 0.0)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class RouterPolicy:
    strategy: str = "simple-shuffle"
    num_retries: int = 0
    retry_policy: dict[int, int] = field(default_factory=dict)
    group_retry_policy: dict[str, dict[int, int]] = field(default_factory=dict)
    retry_after: float = 0.0
    allowed_fails: int = 3
    allowed_fails_set: bool = False
    allowed_fails_policy: dict[int, int] = field(default_factory=dict)
    cooldown_time: float = 5.0
    disable_cooldowns: bool = False
    fallbacks: dict[str, list[str]] = field(default_factory=dict)
    context_window_fallbacks: dict[str, list[str]] = field(default_factory=dict)
    content_policy_fallbacks: dict[str, list[str]] = field(default_factory=dict)
    default_fallbacks: list[str] = field(default_factory=list)
    max_fallbacks: int = 5
    pre_call_checks: bool = False
    tag_filtering: bool = False
    tag_match_any: bool = True
    default_max_parallel_requests: int = 0
    health_check_routing: bool = False
    # latency-based-routing: samples older than this are forgotten; deployments within
    # (1 + buffer) times the fastest share the traffic.
    latency_ttl_seconds: float = 3600.0
    latency_buffer: float = 0.0
    # Background health checks (general_settings).
    background_health_checks: bool = False
    health_check_interval: float = 300.0
    health_check_timeout: float = 30.0
    drop_params: bool = False
    # Default per-call timeouts of deployments that set none (`timeout` / `request_timeout`,
    # `stream_timeout`), seconds.
    timeout: float | None = None
    stream_timeout: float | None = None

    @property
    def tracks_usage(self) -> bool:
        """Strategies that need every attempt admitted (shared in-flight/usage counters)."""
        return self.strategy in ("least-busy", "usage-based-routing", "usage-based-routing-v2")

    def retries_for_group(self, group: str) -> dict[int, int]:
        return self.group_retry_policy.get(group, self.retry_policy)


def load_policy(config: GatewayConfig) -> RouterPolicy:
    rs, ls, gs = config.router_settings, config.litellm_settings, config.general_settings

    def get(key: str, default: Any = None) -> Any:
        if key in rs:
            return rs[key]
        return ls.get(key, default)

    strategy = str(get("routing_strategy") or "simple-shuffle")
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"router_settings.routing_strategy {strategy!r} is not one of {', '.join(sorted(STRATEGIES))}"
        )
    group_policy_raw = get("model_group_retry_policy") or {}
    if not isinstance(group_policy_raw, Mapping):
        raise ConfigError("router_settings.model_group_retry_policy must map model groups to retry policies")
    args = get("routing_strategy_args") or {}
    if not isinstance(args, Mapping):
        raise ConfigError("router_settings.routing_strategy_args must be a mapping")
    default_fallbacks = get("default_fallbacks") or []
    if not isinstance(default_fallbacks, list):
        default_fallbacks = [default_fallbacks]
    return RouterPolicy(
        strategy=strategy,
        num_retries=int(_num(get("num_retries"), "num_retries", 0)),
        retry_policy=_kind_map(get("retry_policy"), "Retries", "retry_policy"),
        group_retry_policy={
            str(g): _kind_map(p, "Retries", f"model_group_retry_policy.{g}") for g, p in group_policy_raw.items()
        },
        retry_after=_num(get("retry_after"), "retry_after", 0.0),
        allowed_fails=int(_num(get("allowed_fails"), "allowed_fails", 3)),
        allowed_fails_set=get("allowed_fails") is not None or get("allowed_fails_policy") is not None,
        allowed_fails_policy=_kind_map(get("allowed_fails_policy"), "AllowedFails", "allowed_fails_policy"),
        cooldown_time=_num(get("cooldown_time"), "cooldown_time", 5.0),
        disable_cooldowns=_flag(get("disable_cooldowns", False)),
        fallbacks=fallback_map(get("fallbacks"), "fallbacks"),
        context_window_fallbacks=fallback_map(get("context_window_fallbacks"), "context_window_fallbacks"),
        content_policy_fallbacks=fallback_map(get("content_policy_fallbacks"), "content_policy_fallbacks"),
        default_fallbacks=[str(x) for x in default_fallbacks],
        max_fallbacks=int(_num(get("max_fallbacks"), "max_fallbacks", 5)),
        pre_call_checks=_flag(get("enable_pre_call_checks", get("enable_pre_call_check", False))),
        tag_filtering=_flag(get("enable_tag_filtering", False)),
        tag_match_any=_flag(get("tag_filtering_match_any", True)),
        default_max_parallel_requests=int(
            _num(get("default_max_parallel_requests", gs.get("max_parallel_requests")), "max_parallel_requests", 0)
        ),
        health_check_routing=_flag(get("enable_health_check_routing", False)),
        latency_ttl_seconds=_num(args.get("ttl"), "routing_strategy_args.ttl", 3600.0),
        latency_buffer=_num(args.get("lowest_latency_buffer"), "routing_strategy_args.lowest_latency_buffer", 0.0),
        background_health_checks=_flag(gs.get("background_health_checks", False)),
        health_check_interval=_num(gs.get("health_check_interval"), "health_check_interval", 300.0),
        health_check_timeout=_num(gs.get("health_check_timeout"), "health_check_timeout", 30.0),
        drop_params=_flag(ls.get("drop_params", False)),
        timeout=_opt_num(rs.get("timeout", ls.get("request_timeout")), "timeout"),
        stream_timeout=_opt_num(get("stream_timeout"), "stream_timeout"),
    )
