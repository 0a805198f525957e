"""router_settings / litellm_settings as LiteLLM names them."""

from __future__ import annotations

import pytest

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_common.settings import ConfigError
from switchyard_llm.model_config import parse_config
from switchyard_router.domain.policy import load_policy


def test_router_settings_win_over_litellm_settings() -> None:
    cfg = parse_config(
        {
            "litellm_settings": {"num_retries": 5, "fallbacks": [{"a": ["b"]}], "default_fallbacks": ["z"]},
            "router_settings": {
                "num_retries": 2,
                "routing_strategy": "latency-based-routing",
                "routing_strategy_args": {"ttl": 60, "lowest_latency_buffer": 0.5},
                "retry_policy": {"RateLimitErrorRetries": 4, "AuthenticationErrorRetries": 1},
                "allowed_fails_policy": {"InternalServerErrorAllowedFails": 9},
                "context_window_fallbacks": [{"small": ["large", "larger"]}],
                "cooldown_time": 12,
                "max_fallbacks": 2,
            },
            "general_settings": {"background_health_checks": True, "health_check_interval": 30},
        }
    )
    p = load_policy(cfg)
    assert p.num_retries == 2 and p.strategy == "latency-based-routing"
    assert p.latency_ttl_seconds == 60 and p.latency_buffer == 0.5
    assert p.retry_policy == {ErrorKind.ERROR_KIND_RATE_LIMIT: 4, ErrorKind.ERROR_KIND_AUTHENTICATION: 1}
    assert p.allowed_fails_policy == {ErrorKind.ERROR_KIND_INTERNAL_SERVER: 9} and p.allowed_fails_set
    assert p.fallbacks == {"a": ["b"]} and p.default_fallbacks == ["z"]
    assert p.context_window_fallbacks == {"small": ["large", "larger"]}
    assert p.cooldown_time == 12 and p.max_fallbacks == 2
    assert p.background_health_checks and p.health_check_interval == 30


def test_defaults_are_litellms() -> None:
    p = load_policy(parse_config({}))
    assert (p.strategy, p.num_retries, p.allowed_fails, p.cooldown_time, p.max_fallbacks) == (
        "simple-shuffle",
        0,
        3,
        5.0,
        5,
    )
    assert not p.allowed_fails_set and not p.tracks_usage


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"routing_strategy": "fastest"}, "routing_strategy"),
        ({"retry_policy": {"RateLimitRetries": 3}}, "RateLimitRetries"),
        ({"retry_policy": {"RateLimitErrorRetries": "many"}}, "integer"),
        ({"fallbacks": "gpt-4o"}, "fallbacks"),
        ({"cooldown_time": "soon"}, "cooldown_time"),
    ],
)
def test_bad_settings_name_the_setting(settings: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_policy(parse_config({"router_settings": settings}))
    assert fragment in str(exc.value)


def test_unknown_and_inapplicable_keys_are_reported() -> None:
    cfg = parse_config(
        {
            "model_list": [{"model_name": "m", "litellm_params": {"model": "openai/m"}, "extra": 1}],
            "router_settings": {"redis_host": "r", "routing_strategy": "simple-shuffle", "made_up": True},
            "litellm_settings": {"drop_params": True, "success_callback": ["langfuse"], "json_logs": True, "nope": 1},
            "general_settings": {"master_key": "sk-1", "background_health_checks": False},
            "mystery": {},
        }
    )
    text = "\n".join(cfg.warnings)
    assert "router_settings.redis_host has no effect" in text
    assert "router_settings.made_up is not a setting" in text
    assert "litellm_settings.json_logs has no effect: logs are always JSON" in text
    assert "litellm_settings.nope is not used" in text
    assert "general_settings.master_key has no effect" in text
    assert "'extra'" in text and "'mystery'" in text
    for applied in ("routing_strategy", "drop_params", "background_health_checks", "success_callback"):
        assert applied not in text


def test_deployment_fields_are_parsed_and_checked() -> None:
    cfg = parse_config(
        {
            "model_list": [
                {
                    "model_name": "g",
                    "litellm_params": {
                        "model": "azure/dep",
                        "api_key": "os.environ/AZ",
                        "rpm": 60,
                        "tpm": "1000",
                        "max_parallel_requests": 4,
                        "weight": 2.5,
                        "order": 1,
                        "tags": ["paid", "eu"],
                        "timeout": 30,
                        "stream_timeout": 5,
                        "cooldown_time": 9,
                    },
                    "model_info": {"id": "d1", "access_groups": ["beta"], "mode": "chat"},
                }
            ]
        }
    )
    d = cfg.deployments[0]
    assert (d.rpm, d.tpm, d.max_parallel_requests, d.weight, d.order) == (60, 1000, 4, 2.5, 1)
    assert d.tags == ("paid", "eu") and d.access_groups == ("beta",) and d.cooldown_time == 9
    assert d.secret_params() == {"api_key": "os.environ/AZ"}
    proto = d.to_proto()
    assert proto.timeout_seconds == 30 and proto.stream_timeout_seconds == 5
    assert b"cooldown_time" not in proto.params_json and b"api_key" not in proto.params_json
    with pytest.raises(ConfigError, match="rpm must be an integer"):
        parse_config({"model_list": [{"model_name": "g", "litellm_params": {"model": "openai/x", "rpm": "fast"}}]})
