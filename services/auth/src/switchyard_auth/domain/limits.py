"""Limits in force: an entity's own limit fields, else those of the budget object it points to
(``budget_id``), field by field — LiteLLM's budget table used as a template, each entity spending
on its own."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from switchyard.auth.v1 import auth_pb2


@dataclass(frozen=True)
class Limits:
    max_budget: str = ""
    soft_budget: str = ""
    budget_duration: str = ""
    rpm_limit: int = 0
    tpm_limit: int = 0
    max_parallel_requests: int = 0

    @property
    def has_spend(self) -> bool:
        return bool(self.max_budget or self.soft_budget)


def of(settings: Any) -> Limits:
    """The limit fields of any settings message (KeySettings nests its rates in ``limits``)."""
    rates = settings.limits if hasattr(settings, "limits") else settings
    return Limits(
        max_budget=getattr(settings, "max_budget", ""),
        soft_budget=getattr(settings, "soft_budget", ""),
        budget_duration=getattr(settings, "budget_duration", ""),
        rpm_limit=rates.rpm_limit,
        tpm_limit=rates.tpm_limit,
        max_parallel_requests=rates.max_parallel_requests,
    )


def effective(own: Limits, budget: Limits | None) -> Limits:
    """``own``'s fields, with the budget object's where ``own`` leaves one unset."""
    if budget is None:
        return own
    return Limits(
        max_budget=own.max_budget or budget.max_budget,
        soft_budget=own.soft_budget or budget.soft_budget,
        budget_duration=own.budget_duration or budget.budget_duration,
        rpm_limit=own.rpm_limit or budget.rpm_limit,
        tpm_limit=own.tpm_limit or budget.tpm_limit,
        max_parallel_requests=own.max_parallel_requests or budget.max_parallel_requests,
    )


def member(max_budget_in_team: str, budget: Limits | None, team_duration: str) -> Limits:
    """A team member's limits: its own amount, else its budget object's; the window of its budget
    object, else the team's."""
    base = budget or Limits()
    return replace(
        base,
        max_budget=max_budget_in_team or base.max_budget,
        budget_duration=base.budget_duration or team_duration,
    )


def spend_limit(limits: Limits, version: int) -> auth_pb2.SpendLimit | None:
    if not limits.has_spend:
        return None
    return auth_pb2.SpendLimit(
        max_budget=limits.max_budget,
        soft_budget=limits.soft_budget,
        budget_duration=limits.budget_duration,
        version=version,
    )


def rate_limits(limits: Limits) -> auth_pb2.RateLimits:
    return auth_pb2.RateLimits(
        rpm_limit=limits.rpm_limit, tpm_limit=limits.tpm_limit, max_parallel_requests=limits.max_parallel_requests
    )
