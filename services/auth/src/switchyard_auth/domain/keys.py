"""Virtual keys: generation, hashing, references and expiry."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from switchyard.auth.v1 import auth_pb2, teams_pb2
from switchyard_auth.domain.settings import Invalid, check_duration
from switchyard_llm.money import parse_usd

KEY_PREFIX = "sk-"


def hash_key(key: str) -> str:
    """SHA-256 hex of a key: the only form in which keys are stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def is_hash(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def ref_hash(ref: str) -> str:
    """What a reference to a key is looked up by: a hash or key id as given, a secret hashed."""
    ref = ref.strip()
    return ref if is_hash(ref) else hash_key(ref)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def display_name(key: str) -> str:
    """A non-secret label: ``sk-...abcd``."""
    return f"{KEY_PREFIX}...{key[-4:]}"


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(a.encode()).digest(), hashlib.sha256(b.encode()).digest())


def expires_at(duration: str, now: float | None = None) -> datetime | None:
    """When a key created now with ``duration`` (e.g. 30d) expires; None for no duration."""
    if not duration:
        return None
    return datetime.fromtimestamp((now or time.time()) + check_duration(duration, "duration"), UTC)


# Model entries that stand for "every model" (LiteLLM's special names).
ANY_MODEL = frozenset({"*", "all-proxy-models", "all-team-models"})


def check_models_within(models: Sequence[str], allowed: Sequence[str], whose: str) -> None:
    """``models`` lie within ``allowed`` (empty, or naming every model: no bound)."""
    if allowed and not ANY_MODEL & set(allowed):
        outside = [m for m in models if m not in allowed and m not in ANY_MODEL]
        if outside:
            raise Invalid(f"'models' must be within the {whose} models; not: {', '.join(outside[:5])}", "models")


def check_within_team(key: auth_pb2.KeySettings, team: teams_pb2.TeamSettings) -> None:
    """A key's models and limits lie within its team's (LiteLLM refuses a team key that would
    reach past its team the same way)."""
    check_models_within(key.models, team.models, "team's")
    if team.max_budget and key.max_budget and parse_usd(key.max_budget) > parse_usd(team.max_budget):
        raise Invalid(f"'max_budget' must not exceed the team's max_budget ({team.max_budget})", "max_budget")
    for name in ("rpm_limit", "tpm_limit", "max_parallel_requests"):
        bound = getattr(team, name)
        if bound and getattr(key.limits, name) > bound:
            raise Invalid(f"'{name}' must not exceed the team's {name} ({bound})", name)
