"""Builds plans: the requested group's deployments in strategy order, then fallback groups."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from switchyard.llm.v1 import deployment_pb2, error_pb2
from switchyard.router.v1 import router_pb2
from switchyard_common.errors import make_error
from switchyard_common.model_config import GatewayConfig
from switchyard_router.domain.cooldown import Cooldowns
from switchyard_router.domain.registry import Registry

K = error_pb2.ErrorKind


def _fallback_map(entries: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in entries or []:
        if isinstance(entry, Mapping):
            for k, v in entry.items():
                out.setdefault(str(k), []).extend(str(x) for x in (v if isinstance(v, list) else [v]))
    return out


class Planner:
    def __init__(
        self, config: GatewayConfig, registry: Registry, cooldowns: Cooldowns, rng: random.Random | None = None
    ) -> None:
        self.registry = registry
        self.cooldowns = cooldowns
        self._rng = rng or random.Random()
        rs, ls = config.router_settings, config.litellm_settings
        self.num_retries = int(rs.get("num_retries", ls.get("num_retries", 0)) or 0)
        self.max_fallbacks = int(rs.get("max_fallbacks", ls.get("max_fallbacks", 5)) or 5)
        self.retry_after = float(rs.get("retry_after", 0) or 0)
        self.fallbacks = _fallback_map(rs.get("fallbacks", ls.get("fallbacks")))
        self.context_window_fallbacks = _fallback_map(
            rs.get("context_window_fallbacks", ls.get("context_window_fallbacks"))
        )
        self.content_policy_fallbacks = _fallback_map(
            rs.get("content_policy_fallbacks", ls.get("content_policy_fallbacks"))
        )
        self.default_fallbacks = [str(x) for x in (rs.get("default_fallbacks", ls.get("default_fallbacks")) or [])]

    def _order(self, deployments: Sequence[deployment_pb2.Deployment]) -> list[deployment_pb2.Deployment]:
        """simple-shuffle: healthy deployments in weighted random order, cooling ones last."""
        healthy = [d for d in deployments if not self.cooldowns.cooling(d.id)]
        if not healthy:
            return []
        ordered = []
        pool = list(healthy)
        while pool:
            pick = self._rng.choice(pool)
            ordered.append(pick)
            pool.remove(pick)
        return ordered

    def plan(self, req: router_pb2.PlanRequest) -> router_pb2.PlanResponse:
        out = router_pb2.PlanResponse(max_fallbacks=self.max_fallbacks)
        allowed = set(req.allowed_models)
        resolved = self.registry.resolve(req.model)
        if resolved is None:
            out.error.CopyFrom(
                make_error(
                    K.ERROR_KIND_BAD_REQUEST,
                    f"Invalid model name passed in model={req.model}. Call `/v1/models` to view available models.",
                    param="model",
                )
            )
            return out
        group_name, deployments = resolved
        if allowed and req.model not in allowed and group_name not in allowed:
            out.error.CopyFrom(
                make_error(
                    K.ERROR_KIND_PERMISSION_DENIED,
                    f"This key is not allowed to access model={req.model}",
                    param="model",
                )
            )
            return out
        out.model_group = group_name
        ordered = self._order(deployments)
        out.groups.add(model_group=group_name, role=router_pb2.GROUP_ROLE_PRIMARY, deployments=ordered)
        if not req.disable_fallbacks:
            generic = list(req.client_fallbacks) or self.fallbacks.get(group_name) or self.default_fallbacks
            for role, names in (
                (router_pb2.GROUP_ROLE_CONTEXT_WINDOW_FALLBACK, self.context_window_fallbacks.get(group_name, [])),
                (router_pb2.GROUP_ROLE_CONTENT_POLICY_FALLBACK, self.content_policy_fallbacks.get(group_name, [])),
                (router_pb2.GROUP_ROLE_FALLBACK, generic),
            ):
                for name in names:
                    if name == group_name or (allowed and name not in allowed):
                        continue
                    fb = self.registry.resolve(name)
                    if fb is None:
                        continue
                    out.groups.add(model_group=fb[0], role=role, deployments=self._order(fb[1]))
        if not any(g.deployments for g in out.groups):
            wait = self.cooldowns.min_remaining([d.id for d in deployments]) or 1.0
            out.error.CopyFrom(
                make_error(
                    K.ERROR_KIND_NO_DEPLOYMENTS,
                    f"No deployments available for selected model, Try again in {wait:.0f} seconds. "
                    f"Passed model={req.model}.",
                    retry_after=wait,
                )
            )
        out.retry_policy.num_retries = req.num_retries if req.HasField("num_retries") else self.num_retries
        out.retry_policy.retry_after_seconds = self.retry_after
        return out
