"""LiteLLM management JSON ↔ the auth service's settings messages: every field LiteLLM sends
lands in its field, an unknown field or a value of the wrong JSON type is an error naming it,
null clears, and the JSON that comes back has LiteLLM's names and types."""

from __future__ import annotations

import orjson
import pytest

from switchyard.auth.v1 import auth_pb2, teams_pb2
from switchyard_common.settings_json import FieldProblem, settings_from_json, settings_to_json

LITELLM_KEY = {
    "key_alias": "ci",
    "duration": "30d",
    "user_id": "u1",
    "team_id": "t1",
    "organization_id": "o1",
    "metadata": {"owner": "qa"},
    "tags": ["prod"],
    "models": ["gpt-4o"],
    "aliases": {"fast": "gpt-4o"},
    "allowed_routes": ["llm_api_routes"],
    "blocked": False,
    "max_budget": 12.5,
    "soft_budget": "10",
    "budget_duration": "1mo",
    "model_max_budget": {"gpt-4o": {"budget_limit": 1, "time_period": "1d"}, "claude": 0.5},
    "budget_id": "b1",
    "rpm_limit": 60,
    "tpm_limit": 1000,
    "max_parallel_requests": 4,
    "model_rpm_limit": {"gpt-4o": 10},
    "model_tpm_limit": {"gpt-4o": 100},
    "guardrails": ["pii"],
    "permissions": {"allow_pii_controls": True},
    "allowed_cache_controls": ["no-cache"],
    "object_permission": {"mcp_servers": ["s1"]},
    "key_type": "llm_api",
}


def test_every_litellm_key_field_has_its_place() -> None:
    s, paths = settings_from_json(LITELLM_KEY, auth_pb2.KeySettings)
    assert s.org_id == "o1" and s.limits.rpm_limit == 60 and s.limits.max_parallel_requests == 4
    assert s.max_budget == "12.5" and s.soft_budget == "10" and orjson.loads(s.metadata_json) == {"owner": "qa"}
    assert s.model_max_budget["gpt-4o"].budget_limit == "1" and s.model_max_budget["gpt-4o"].time_period == "1d"
    assert s.model_max_budget["claude"].budget_limit == "0.5", "a bare number is the limit"
    assert dict(s.aliases) == {"fast": "gpt-4o"} and dict(s.model_rpm_limit) == {"gpt-4o": 10}
    assert "limits.rpm_limit" in paths and "org_id" in paths and "metadata_json" in paths
    back = settings_to_json(s)
    assert back["organization_id"] == "o1" and back["rpm_limit"] == 60 and back["max_budget"] == 12.5
    assert back["metadata"] == {"owner": "qa"} and back["permissions"] == {"allow_pii_controls": True}
    assert back["model_max_budget"]["gpt-4o"] == {"budget_limit": 1.0, "time_period": "1d"}
    assert set(back) == set(LITELLM_KEY), "the same field names both ways"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"not_a_field": 1}, "not_a_field"),
        ({"max_budget": "lots"}, "max_budget"),
        ({"max_budget": True}, "max_budget"),
        ({"rpm_limit": "60"}, "rpm_limit"),
        ({"models": "gpt-4o"}, "models"),
        ({"tags": [1]}, "tags"),
        ({"aliases": ["x"]}, "aliases"),
        ({"model_max_budget": {"m": {"budget_limit": 1, "period": "1d"}}}, "model_max_budget.m.period"),
        ({"blocked": "yes"}, "blocked"),
        ({"key_alias": 5}, "key_alias"),
    ],
)
def test_wrong_fields_are_named(body: dict[str, object], param: str) -> None:
    with pytest.raises(FieldProblem) as exc:
        settings_from_json(body, auth_pb2.KeySettings)
    assert exc.value.param == param and param.split(".", maxsplit=1)[0] in str(exc.value)


def test_null_clears_and_route_fields_are_left_to_the_route() -> None:
    s, paths = settings_from_json(
        {"team_id": "t1", "max_budget": None, "members_with_roles": []},
        teams_pb2.TeamSettings,
        ignore={"team_id", "members_with_roles"},
    )
    assert paths == ["max_budget"] and not s.max_budget
    with pytest.raises(FieldProblem, match="team_id"):
        settings_from_json({"team_id": "t1"}, teams_pb2.TeamSettings)
    team, _ = settings_from_json({"model_aliases": {"a": "b"}, "metadata": {"x": [1]}}, teams_pb2.TeamSettings)
    assert settings_to_json(team)["model_aliases"] == {"a": "b"}
