"""Builders shared by the router's tests."""

from __future__ import annotations

import random
from typing import Any

from switchyard_llm.model_config import parse_config
from switchyard_router.domain.cooldown import Cooldowns
from switchyard_router.domain.health import HealthBook
from switchyard_router.domain.planner import Planner
from switchyard_router.domain.policy import load_policy
from switchyard_router.domain.registry import Registry, StoredModel


def dep(name: str, dep_id: str, model: str | None = None, **params: Any) -> dict[str, Any]:
    info = params.pop("model_info", {})
    return {
        "model_name": name,
        "litellm_params": {"model": model or f"openai/{dep_id}", "api_base": "http://upstream.invalid/v1", **params},
        "model_info": {"id": dep_id, **info},
    }


def planner(deployments: list[dict[str, Any]], seed: int = 7, **settings: Any) -> Planner:
    cfg = parse_config({"model_list": deployments, "router_settings": settings})
    policy = load_policy(cfg)
    registry = Registry(
        [StoredModel(config=d) for d in cfg.deployments],
        policy=policy,
        aliases=cfg.router_settings.get("model_group_alias") or {},
    )
    return Planner(policy, registry, Cooldowns(), health=HealthBook(), latency={}, rng=random.Random(seed))
