"""The deployments of every model group, with aliases and wildcard groups."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

from switchyard.llm.v1 import deployment_pb2
from switchyard_common.model_config import DeploymentConfig, GatewayConfig
from switchyard_common.pricing import PriceBook


@dataclass
class Group:
    name: str
    deployments: list[DeploymentConfig] = field(default_factory=list)
    protos: list[deployment_pb2.Deployment] = field(default_factory=list)


class Registry:
    def __init__(self, config: GatewayConfig, prices: PriceBook | None = None) -> None:
        self.groups: dict[str, Group] = {}
        self.wildcards: list[Group] = []
        self._prices = prices or PriceBook()
        self._wildcard_cache: dict[str, list[deployment_pb2.Deployment]] = {}
        for dep in config.deployments:
            group = self.groups.setdefault(dep.model_name, Group(dep.model_name))
            group.deployments.append(dep)
            group.protos.append(self._priced(dep.to_proto()))
        self.wildcards = [g for name, g in self.groups.items() if "*" in name]
        alias = config.router_settings.get("model_group_alias") or {}
        self.aliases: dict[str, str] = {}
        self.hidden: set[str] = set()
        for public, target in alias.items():
            if isinstance(target, dict):
                self.aliases[public] = str(target.get("model"))
                if target.get("hidden"):
                    self.hidden.add(public)
            else:
                self.aliases[public] = str(target)

    def _priced(self, dep: deployment_pb2.Deployment) -> deployment_pb2.Deployment:
        if "*" not in dep.model:
            inp, out = self._prices.admission_rates(dep)
            dep.pricing.admission_input_cost_per_token = inp
            dep.pricing.admission_output_cost_per_token = out
        return dep

    def resolve(self, model: str) -> tuple[str, list[deployment_pb2.Deployment]] | None:
        """The group a requested model name maps to and its deployments, or None."""
        name = self.aliases.get(model, model)
        group = self.groups.get(name)
        if group is not None and "*" not in name:
            return name, group.protos
        cached = self._wildcard_cache.get(name)
        if cached is not None:
            return name, cached
        for wc in self.wildcards:
            if fnmatch.fnmatchcase(name, wc.name):
                # A wildcard deployment serves the requested model itself: "anthropic/*" with
                # "anthropic/claude-x" calls claude-x.
                out = []
                for dep in wc.protos:
                    d = deployment_pb2.Deployment()
                    d.CopyFrom(dep)
                    d.model_group = name
                    prefix = dep.provider + "/"
                    target = name[len(prefix) :] if name.startswith(prefix) else name
                    if "*" in d.model:
                        d.model = target
                    d.id = f"{dep.id}:{target}"
                    out.append(self._priced(d))
                if len(self._wildcard_cache) < 10_000:
                    self._wildcard_cache[name] = out
                return name, out
        return None

    def public_names(self, allowed: Iterable[str] = ()) -> list[str]:
        allowed_set = set(allowed)
        names = [n for n in self.groups if "*" not in n]
        names += [a for a in self.aliases if a not in self.hidden]
        return [n for n in names if not allowed_set or n in allowed_set]
