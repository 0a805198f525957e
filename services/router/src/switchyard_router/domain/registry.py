"""The deployments of every model group (config.yaml plus those added at runtime), with
aliases, wildcard groups and access groups. A registry is immutable: a change of the runtime
models builds a new one, swapped in whole."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from switchyard.llm.v1 import deployment_pb2
from switchyard_common.settings import ConfigError
from switchyard_llm.model_config import WILDCARD_PROVIDER, DeploymentConfig, split_model
from switchyard_llm.pricing import PriceBook
from switchyard_router.domain.policy import RouterPolicy

log = logging.getLogger(__name__)

# Key `models` entries that allow every model (LiteLLM's special name).
ALL_MODELS = frozenset({"*", "all-proxy-models"})


@lru_cache(maxsize=4096)
def library_context_window(model: str) -> int:
    """Context window from the genai-prices library (0 when unknown)."""
    from genai_prices import Usage, calc_price

    try:
        calc = calc_price(Usage(input_tokens=0, output_tokens=0), model_ref=model)
    except LookupError:
        return 0
    except Exception:  # the library's own errors when a model has no usable price data
        log.debug("context window lookup failed", extra={"model": model}, exc_info=True)
        return 0
    return int(getattr(calc.model, "context_window", 0) or 0)


@dataclass(frozen=True)
class StoredModel:
    """A deployment as the registry keeps it: its definition plus runtime-model metadata."""

    config: DeploymentConfig
    sealed: Mapping[str, bytes] = field(default_factory=dict)
    db_model: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    created_by: str = ""
    updated_by: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One deployment as routing sees it."""

    proto: deployment_pb2.Deployment
    model: StoredModel
    rpm: int
    tpm: int
    max_parallel: int
    weight: float | None
    order: int
    tags: frozenset[str]
    max_input_tokens: int
    # List USD per input and per output token (lowest tier); None when no price is known.
    rates: tuple[float, float] | None
    # USD per input + output token, for cost-based routing; None when no price is known.
    cost: float | None
    cooldown_time: float | None

    @property
    def id(self) -> str:
        return self.proto.id

    @property
    def limited(self) -> bool:
        return bool(self.rpm or self.tpm or self.max_parallel)


@dataclass
class Group:
    name: str
    candidates: list[Candidate] = field(default_factory=list)
    access_groups: set[str] = field(default_factory=set)


def permits(allowed: Sequence[str], names: Iterable[str], access_groups: Iterable[str] = ()) -> bool:
    """Whether a caller whose key lists ``allowed`` may use a model known by ``names``."""
    if not allowed:
        return True
    wanted = [n for n in names if n]
    groups = set(access_groups)
    for a in allowed:
        if a in ALL_MODELS or a in groups or a in wanted:
            return True
        if "*" in a and any(fnmatch.fnmatchcase(n, a) for n in wanted):
            return True
    return False


class Registry:
    def __init__(
        self,
        models: Iterable[StoredModel],
        *,
        policy: RouterPolicy,
        aliases: Mapping[str, object] | None = None,
        prices: PriceBook | None = None,
    ) -> None:
        self._policy = policy
        self._prices = prices or PriceBook()
        self.groups: dict[str, Group] = {}
        self.by_id: dict[str, StoredModel] = {}
        self._wildcard_cache: dict[str, list[Candidate]] = {}
        for model in models:
            self.by_id[model.config.id] = model
            group = self.groups.setdefault(model.config.model_name, Group(model.config.model_name))
            group.candidates.append(self._candidate(model, model.config.to_proto()))
            group.access_groups.update(model.config.access_groups)
        self.wildcards = [g for name, g in self.groups.items() if "*" in name]
        self.aliases: dict[str, str] = {}
        self.hidden: set[str] = set()
        for public, target in (aliases or {}).items():
            if isinstance(target, Mapping):
                self.aliases[str(public)] = str(target.get("model"))
                if target.get("hidden"):
                    self.hidden.add(str(public))
            else:
                self.aliases[str(public)] = str(target)

    def _candidate(self, model: StoredModel, dep: deployment_pb2.Deployment) -> Candidate:
        cfg = model.config
        if model.sealed:
            for name, value in model.sealed.items():
                dep.sealed_credentials[name] = value
        dep.drop_params = dep.drop_params or self._policy.drop_params
        if not dep.HasField("timeout_seconds") and self._policy.timeout is not None:
            dep.timeout_seconds = self._policy.timeout
        if not dep.HasField("stream_timeout_seconds") and self._policy.stream_timeout is not None:
            dep.stream_timeout_seconds = self._policy.stream_timeout
        rates: tuple[float, float] | None = None
        max_input = dep.max_input_tokens
        if "*" not in dep.model and dep.provider != WILDCARD_PROVIDER:
            admission = self._prices.admission_rates(dep)
            if admission is None:
                dep.pricing.admission_price_unknown = True
            else:
                dep.pricing.admission_input_cost_per_token, dep.pricing.admission_output_cost_per_token = admission
            rates = self._prices.list_rates(dep)
            if not max_input:
                max_input = library_context_window(dep.pricing.base_model or dep.model)
        max_parallel = cfg.max_parallel_requests or self._policy.default_max_parallel_requests or 0
        return Candidate(
            proto=dep,
            model=model,
            rpm=cfg.rpm or 0,
            tpm=cfg.tpm or 0,
            max_parallel=max_parallel,
            weight=cfg.weight,
            order=cfg.order if cfg.order is not None else 1_000_000,
            tags=frozenset(cfg.tags),
            max_input_tokens=max_input,
            rates=rates,
            cost=rates[0] + rates[1] if rates is not None else None,
            cooldown_time=cfg.cooldown_time,
        )

    def _wildcard(self, name: str) -> list[Candidate] | None:
        cached = self._wildcard_cache.get(name)
        if cached is not None:
            return cached
        for wc in self.wildcards:
            if not fnmatch.fnmatchcase(name, wc.name):
                continue
            # A wildcard deployment serves the requested model itself: "anthropic/*" with
            # "anthropic/claude-x" calls claude-x; "*" infers the provider from the name.
            out = []
            for cand in wc.candidates:
                d = deployment_pb2.Deployment()
                d.CopyFrom(cand.proto)
                d.model_group = name
                d.wildcard_origin.id = cand.proto.id
                d.wildcard_origin.provider = cand.proto.provider
                d.wildcard_origin.model = cand.proto.model
                if d.provider == WILDCARD_PROVIDER:
                    try:
                        d.provider, target = split_model(name, api_base=d.api_base or None)
                    except ConfigError:
                        continue
                else:
                    prefix = d.provider + "/"
                    target = name[len(prefix) :] if name.startswith(prefix) else name
                if "*" in d.model:
                    d.model = target
                d.id = f"{cand.id}:{target}"
                out.append(self._candidate(cand.model, d))
            if not out:
                continue
            if len(self._wildcard_cache) < 10_000:
                self._wildcard_cache[name] = out
            return out
        return None

    def resolve(self, model: str) -> tuple[str, list[Candidate], set[str]] | None:
        """The group a requested model name maps to, its candidates and access groups."""
        name = self.aliases.get(model, model)
        group = self.groups.get(name)
        if group is not None and "*" not in name:
            return name, group.candidates, group.access_groups
        found = self._wildcard(name)
        if found is None:
            return None
        groups: set[str] = set()
        for wc in self.wildcards:
            if fnmatch.fnmatchcase(name, wc.name):
                groups |= wc.access_groups
        return name, found, groups

    def find(self, deployment_id: str, model_group: str) -> Candidate | None:
        """A deployment by id (wildcard-derived ids resolve through their group)."""
        resolved = self.resolve(model_group) if model_group else None
        pools = [resolved[1]] if resolved else [g.candidates for g in self.groups.values()]
        for pool in pools:
            for cand in pool:
                if cand.id == deployment_id:
                    return cand
        return None

    def public_names(self, allowed: Sequence[str] = ()) -> list[str]:
        names = [n for n, g in self.groups.items() if "*" not in n and permits(allowed, [n], g.access_groups)]
        for alias, target in self.aliases.items():
            if alias in self.hidden:
                continue
            g = self.groups.get(target)
            if permits(allowed, [alias, target], g.access_groups if g else ()):
                names.append(alias)
        return list(dict.fromkeys(names))

    def all_candidates(self) -> list[Candidate]:
        return [c for g in self.groups.values() for c in g.candidates]
