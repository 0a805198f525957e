"""Builds plans: the requested group's deployments filtered (tags, context window, health,
cooldowns) and ordered by the routing strategy, then fallback groups. Admission against
rpm/tpm/parallel limits is asynchronous (shared counters), so a plan comes back with the
admission it still needs; ``admit`` completes it with the result."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2
from switchyard_common.rate_limits import MODE_FIRST, MODE_LEAST_BUSY, MODE_USAGE
from switchyard_llm.errors import make_error
from switchyard_router.domain.cooldown import Cooldowns
from switchyard_router.domain.health import HealthBook
from switchyard_router.domain.limits import Admission, LimitSpec
from switchyard_router.domain.policy import RouterPolicy
from switchyard_router.domain.registry import Candidate, Registry, permits
from switchyard_router.domain.strategies import LatencySample, order_candidates, shuffle_weights

# Strategies whose order depends on no changing statistics (see Planner._mark_cacheable).
CACHEABLE_STRATEGIES = frozenset({"simple-shuffle", "cost-based-routing"})

DEFAULT_TAG = "default"


@dataclass(frozen=True, slots=True)
class AdmissionNeed:
    """The primary group still needs one of these deployments admitted (in this order)."""

    group_index: int
    candidates: list[Candidate]
    mode: str

    def specs(self) -> list[LimitSpec]:
        return [limit_spec(c) for c in self.candidates]


def limit_spec(c: Candidate) -> LimitSpec:
    return LimitSpec(id=c.id, rpm=c.rpm, tpm=c.tpm, max_parallel=c.max_parallel, order=c.order)


def no_deployments(model: str, wait: float, detail: str) -> error_pb2.Error:
    wait = max(wait, 0.001)
    return make_error(
        ErrorKind.ERROR_KIND_NO_DEPLOYMENTS,
        f"No deployments available for selected model, Try again in {max(1, round(wait))} seconds. "
        f"Passed model={model}. {detail}",
        retry_after=wait,
    )


class Planner:
    def __init__(
        self,
        policy: RouterPolicy,
        registry: Registry,
        cooldowns: Cooldowns,
        *,
        health: HealthBook | None = None,
        latency: Mapping[str, LatencySample] | None = None,
        rng: random.Random | None = None,
        plan_cache_ms: int = 0,
    ) -> None:
        self.policy = policy
        # How long an edge may reuse a plan that depends on no per-request state (0: never).
        self.plan_cache_ms = plan_cache_ms
        self.registry = registry
        self.cooldowns = cooldowns
        self.health = health or HealthBook()
        self.latency: Mapping[str, LatencySample] = latency if latency is not None else {}
        self._rng = rng or random.Random()

    @property
    def admission_mode(self) -> str:
        if self.policy.strategy == "least-busy":
            return MODE_LEAST_BUSY
        if self.policy.strategy in ("usage-based-routing", "usage-based-routing-v2"):
            return MODE_USAGE
        return MODE_FIRST

    def needs_admission(self, cands: Sequence[Candidate]) -> bool:
        return self.policy.tracks_usage or any(c.limited for c in cands)

    # --- filters --------------------------------------------------------------------------
    def _by_tags(self, cands: list[Candidate], tags: Sequence[str]) -> list[Candidate]:
        if not self.policy.tag_filtering:
            return cands
        wanted = set(tags)
        if wanted:
            if self.policy.tag_match_any:
                matched = [c for c in cands if c.tags & wanted]
            else:
                matched = [c for c in cands if wanted <= c.tags]
            if matched:
                return matched
        # Untagged requests, and tags no deployment carries, go to the `default` deployments.
        defaults = [c for c in cands if DEFAULT_TAG in c.tags]
        if defaults:
            return defaults
        return cands if not wanted else []

    def _group(
        self, name: str, cands: Sequence[Candidate], req: router_pb2.PlanRequest, now: float, *, skip_cooldown: bool
    ) -> tuple[list[Candidate], error_pb2.Error | None]:
        pool = self._by_tags(list(cands), req.tags)
        if not pool:
            return [], make_error(
                ErrorKind.ERROR_KIND_BAD_REQUEST,
                f"No deployment of model group {name} matches the request's tags {sorted(set(req.tags))}.",
                param="tags",
            )
        tokens = req.estimated_input_tokens
        if self.policy.pre_call_checks and tokens > 0:
            fits = [c for c in pool if not c.max_input_tokens or c.max_input_tokens >= tokens]
            if not fits:
                largest = max(c.max_input_tokens for c in pool)
                return [], make_error(
                    ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
                    f"ContextWindowExceededError: the prompt (~{tokens} tokens) is larger than the context window "
                    f"of every deployment of model group {name} (largest: {largest} tokens).",
                )
            pool = fits
        if self.policy.health_check_routing:
            healthy = [c for c in pool if not self.health.unhealthy(c.id)]
            # Every deployment failing its check: trying beats refusing (the check may be wrong).
            pool = healthy or pool
        if not skip_cooldown:
            ready = [c for c in pool if not self.cooldowns.cooling(c.id, now)]
            if not ready:
                wait = self.cooldowns.min_remaining([c.id for c in pool], now) or 1.0
                cooling = [c.id for c in pool]
                return [], no_deployments(req.model or name, wait, f"Deployments cooling down: {cooling}")
            pool = ready
        ordered = order_candidates(
            self.policy.strategy,
            pool,
            rng=self._rng,
            stream=req.stream,
            latency=self.latency,
            latency_ttl=self.policy.latency_ttl_seconds,
            latency_buffer=self.policy.latency_buffer,
            now=now,
        )
        return ordered, None

    # --- plan -----------------------------------------------------------------------------
    def _resolve_fallback(self, name: str) -> tuple[str, list[Candidate], set[str], bool] | None:
        found = self.registry.resolve(name)
        if found is not None:
            return found[0], found[1], found[2], False
        # A fallback may name one deployment by id; LiteLLM then skips its cooldown check.
        model = self.registry.by_id.get(name)
        if model is None:
            return None
        group = self.registry.groups.get(model.config.model_name)
        cand = next((c for c in group.candidates if c.id == name), None) if group else None
        if cand is None or group is None:
            return None
        return group.name, [cand], group.access_groups, True

    def plan(self, req: router_pb2.PlanRequest, now: float) -> tuple[router_pb2.PlanResponse, AdmissionNeed | None]:
        out = router_pb2.PlanResponse(max_fallbacks=self.policy.max_fallbacks)
        allowed, team = list(req.allowed_models), list(req.team_models)
        resolved = self.registry.resolve(req.model)
        if resolved is None:
            out.error.CopyFrom(
                make_error(
                    ErrorKind.ERROR_KIND_BAD_REQUEST,
                    f"Invalid model name passed in model={req.model}. Call `/v1/models` to view available models.",
                    param="model",
                )
            )
            return out, None
        group_name, cands, access_groups = resolved
        if not (
            permits(allowed, [req.model, group_name], access_groups)
            and permits(team, [req.model, group_name], access_groups)
        ):
            out.error.CopyFrom(
                make_error(
                    ErrorKind.ERROR_KIND_PERMISSION_DENIED,
                    f"This key is not allowed to access model={req.model}",
                    param="model",
                )
            )
            return out, None
        out.model_group = group_name
        need: AdmissionNeed | None = None
        ordered, reason = self._group(group_name, cands, req, now, skip_cooldown=False)
        cands_by_group: list[tuple[Sequence[Candidate], list[Candidate]]] = [(cands, ordered)]
        primary = out.groups.add(
            model_group=group_name,
            role=router_pb2.GROUP_ROLE_PRIMARY,
            deployments=[c.proto for c in ordered],
            admission_required=self.needs_admission(ordered),
        )
        if reason is not None:
            primary.empty_reason.CopyFrom(reason)
        elif primary.admission_required and not req.mock_testing_fallbacks:
            need = AdmissionNeed(0, ordered, self.admission_mode)
        if not req.disable_fallbacks:
            p = self.policy
            generic = list(req.client_fallbacks) or p.fallbacks.get(group_name) or p.default_fallbacks
            seen: set[tuple[int, str]] = set()
            for role, names in (
                (router_pb2.GROUP_ROLE_CONTEXT_WINDOW_FALLBACK, p.context_window_fallbacks.get(group_name, [])),
                (router_pb2.GROUP_ROLE_CONTENT_POLICY_FALLBACK, p.content_policy_fallbacks.get(group_name, [])),
                (router_pb2.GROUP_ROLE_FALLBACK, generic),
            ):
                for name in names:
                    if name in (group_name, req.model) or (role, name) in seen:
                        continue
                    seen.add((role, name))
                    fb = self._resolve_fallback(name)
                    if fb is None or not (
                        permits(allowed, [name, fb[0]], fb[2]) and permits(team, [name, fb[0]], fb[2])
                    ):
                        continue
                    fb_ordered, fb_reason = self._group(fb[0], fb[1], req, now, skip_cooldown=fb[3])
                    cands_by_group.append((fb[1], fb_ordered))
                    g = out.groups.add(
                        model_group=fb[0],
                        role=role,
                        deployments=[c.proto for c in fb_ordered],
                        admission_required=self.needs_admission(fb_ordered),
                    )
                    if fb_reason is not None:
                        g.empty_reason.CopyFrom(fb_reason)
        self._check_servable(out, req)
        self._mark_cacheable(out, req, need, now, cands_by_group)
        policy = self.policy.retries_for_group(group_name)
        out.retry_policy.num_retries = req.num_retries if req.HasField("num_retries") else self.policy.num_retries
        for kind, n in policy.items():
            out.retry_policy.retries_by_kind[kind] = n
        out.retry_policy.retry_after_seconds = self.policy.retry_after
        return out, need

    def _mark_cacheable(
        self,
        out: router_pb2.PlanResponse,
        req: router_pb2.PlanRequest,
        need: AdmissionNeed | None,
        now: float,
        groups: Sequence[tuple[Sequence[Candidate], list[Candidate]]],
    ) -> None:
        """Let edges reuse plans that depend on nothing per request: a static strategy, no
        admission, no forced failure. A reused plan is reordered by the weights given here, and
        expires no later than the soonest end of a cooldown it left a deployment out for."""
        if (
            not self.plan_cache_ms
            or self.policy.strategy not in CACHEABLE_STRATEGIES
            or need is not None
            or req.mock_testing_fallbacks
            # The context-window pre-check depends on each request's prompt size.
            or (self.policy.pre_call_checks and req.estimated_input_tokens > 0)
            or out.HasField("error")
            or any(g.admission_required for g in out.groups)
        ):
            return
        ttl_ms = float(self.plan_cache_ms)
        for (all_cands, ordered), group in zip(groups, out.groups, strict=True):
            left = self.cooldowns.min_remaining([c.id for c in all_cands], now)
            if left is not None:
                ttl_ms = min(ttl_ms, left * 1000)
            if self.policy.strategy == "simple-shuffle":
                group.shuffle_weights.extend(shuffle_weights(ordered))
            group.tiers.extend(c.order for c in ordered)
        if ttl_ms >= 1:
            out.cache_ttl_ms = int(ttl_ms)

    @staticmethod
    def _check_servable(out: router_pb2.PlanResponse, req: router_pb2.PlanRequest) -> None:
        """When no group has a deployment left, the plan fails with the primary group's reason
        (the soonest retry-after of any group when they are all cooling down or full)."""
        if out.HasField("error") or any(g.deployments for g in out.groups):
            return
        reasons = [g.empty_reason for g in out.groups if g.HasField("empty_reason")]
        err = error_pb2.Error()
        err.CopyFrom(reasons[0] if reasons else no_deployments(req.model, 1.0, ""))
        if err.kind == ErrorKind.ERROR_KIND_NO_DEPLOYMENTS:
            waits = [r.retry_after_seconds for r in reasons if r.HasField("retry_after_seconds")]
            if waits:
                err.retry_after_seconds = min(waits)
        out.error.CopyFrom(err)

    def admit(
        self, out: router_pb2.PlanResponse, need: AdmissionNeed, result: Admission, lease: router_pb2.Lease | None
    ) -> None:
        """Complete a plan with its admission: the admitted deployment goes first; when none
        had room the group is emptied (its fallbacks may still serve)."""
        group = out.groups[need.group_index]
        if result.index >= 0:
            chosen = need.candidates[result.index]
            rest = [c for i, c in enumerate(need.candidates) if i != result.index]
            del group.deployments[:]
            group.deployments.extend([chosen.proto, *(c.proto for c in rest)])
            if lease is not None:
                out.lease.CopyFrom(lease)
            return
        del group.deployments[:]
        group.empty_reason.CopyFrom(
            no_deployments(out.model_group, result.wait, f"Every deployment is at its limit ({result.reason}).")
        )
        if not any(g.deployments for g in out.groups):
            err = error_pb2.Error()
            err.CopyFrom(group.empty_reason)
            out.error.CopyFrom(err)
