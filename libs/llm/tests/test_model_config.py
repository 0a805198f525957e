"""LiteLLM config.yaml parsing."""

from __future__ import annotations

import pytest

from switchyard_common.settings import ConfigError
from switchyard_llm.model_config import deployment_id, parse_config, resolve_value, split_model


def test_parse_litellm_config() -> None:
    cfg = parse_config(
        {
            "model_list": [
                {
                    "model_name": "gpt-4o",
                    "litellm_params": {
                        "model": "azure/my-dep",
                        "api_base": "https://x",
                        "api_key": "os.environ/AZ",
                        "api_version": "2024-10-21",
                        "rpm": 10,
                        "timeout": 30,
                    },
                    "model_info": {"id": "az-1", "base_model": "azure/gpt-4o", "max_input_tokens": 128000},
                },
                {"model_name": "claude", "litellm_params": {"model": "claude-sonnet-4-5"}},
            ],
            "router_settings": {"num_retries": 2},
            "something_else": 1,
        }
    )
    az, claude = cfg.deployments
    assert (az.id, az.provider, az.model) == ("az-1", "azure", "my-dep")
    dep = az.to_proto()
    assert dep.api_base == "https://x" and dep.timeout_seconds == 30 and dep.max_input_tokens == 128000
    assert dep.pricing.base_model == "azure/gpt-4o"
    assert b"api_key" not in dep.params_json and b"api_version" in dep.params_json
    assert claude.provider == "anthropic" and claude.id == deployment_id("claude", {"model": "claude-sonnet-4-5"})
    assert any("something_else" in w for w in cfg.warnings)


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"model_list": [{"litellm_params": {"model": "openai/x"}}]}, "model_name"),
        ({"model_list": [{"model_name": "a", "litellm_params": {}}]}, "litellm_params.model"),
        ({"model_list": [{"model_name": "a", "litellm_params": {"model": "mystery"}}]}, "provider"),
        (
            {
                "model_list": [
                    {"model_name": "a", "litellm_params": {"model": "openai/x"}, "model_info": {"id": "d"}},
                    {"model_name": "b", "litellm_params": {"model": "openai/y"}, "model_info": {"id": "d"}},
                ]
            },
            "duplicate",
        ),
        *(
            (
                {
                    "model_list": [
                        {"model_name": "a", "litellm_params": {"model": "openai/x", **params}, "model_info": info}
                    ]
                },
                fragment,
            )
            for params, info, fragment in [
                ({"timeout": "slow"}, {}, "'slow'"),
                ({"timeout": 0}, {}, "timeout must be more than 0"),
                ({"stream_timeout": -1}, {}, "non-negative"),
                ({"weight": -1}, {}, "non-negative"),
                ({"rpm": 1e40}, {}, "rpm must be between"),
                ({"tpm": "many"}, {}, "tpm must be an integer"),
                ({}, {"max_input_tokens": 1e40}, "token limits"),
                ({}, {"max_output_tokens": "lots"}, "token limits"),
                ({}, {"input_cost_per_token": "free"}, "'free'"),
                ({"output_cost_per_token": float("nan")}, {}, "non-negative"),
            ]
        ),
    ],
)
def test_bad_configs_say_what_is_wrong(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(data)
    assert fragment in str(exc.value)


def test_split_model() -> None:
    assert split_model("bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0") == (
        "bedrock",
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
    )
    assert split_model("gpt-4o-mini") == ("openai", "gpt-4o-mini")
    assert split_model("my-model", api_base="http://vllm:8000/v1") == ("openai", "my-model")
    assert split_model("meta/llama", custom_llm_provider="openai") == ("openai", "meta/llama")


def test_os_environ_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SY_TEST_KEY", "secret")
    assert resolve_value("os.environ/SY_TEST_KEY") == "secret"
    assert resolve_value("plain") == "plain"
    with pytest.raises(ConfigError):
        resolve_value("os.environ/SY_TEST_MISSING")
