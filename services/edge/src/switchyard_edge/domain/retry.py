"""Retries and fallbacks: after an attempt fails, whether to try the same group again, how long to
wait first, and which group of the plan to fall back to. Pure decisions from the router's plan
and the error; the attempts loop (``pipeline/attempts.py``) carries them out."""

from __future__ import annotations

from collections.abc import Sequence, Set

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2

RETRYABLE = frozenset(
    {
        ErrorKind.ERROR_KIND_RATE_LIMIT,
        ErrorKind.ERROR_KIND_TIMEOUT,
        ErrorKind.ERROR_KIND_INTERNAL_SERVER,
        ErrorKind.ERROR_KIND_BAD_GATEWAY,
        ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE,
        ErrorKind.ERROR_KIND_API_CONNECTION,
    }
)
# Errors after which another model group may succeed (client mistakes such as 400 are final).
FALLBACK_ON = RETRYABLE | {
    ErrorKind.ERROR_KIND_AUTHENTICATION,
    ErrorKind.ERROR_KIND_PERMISSION_DENIED,
    ErrorKind.ERROR_KIND_NOT_FOUND,
    ErrorKind.ERROR_KIND_NO_DEPLOYMENTS,
    ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
    ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION,
}
# Fallback groups made for one kind of error, tried before the generic ones.
_SPECIFIC_FALLBACK = {
    ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED: router_pb2.GROUP_ROLE_CONTEXT_WINDOW_FALLBACK,
    ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION: router_pb2.GROUP_ROLE_CONTENT_POLICY_FALLBACK,
}
# Longest exponential backoff between rate-limited retries of one deployment, and longest wait
# of any kind.
_MAX_RATE_LIMIT_BACKOFF = 8.0
_MAX_WAIT = 60.0
# A retry is not worth starting with less than this left of the request's deadline.
_DEADLINE_MARGIN = 0.05


def next_group(
    groups: Sequence[router_pb2.CandidateGroup], last: error_pb2.Error | None, tried: Set[int]
) -> int | None:
    """The index in ``groups`` of the group to try next, None when there is none. Without an
    error yet: the first group. After ``last`` failed a group: none when another group cannot
    help with that kind of error; else the first untried fallback group made for that kind
    (context window, content policy), or failing that the first untried generic fallback group.
    The primary group is never fallen back to."""
    if last is None:
        return 0 if groups else None
    if last.kind not in FALLBACK_ON:
        return None
    wanted = _SPECIFIC_FALLBACK.get(last.kind)
    generic: int | None = None
    for i, g in enumerate(groups):
        if i in tried or g.role == router_pb2.GROUP_ROLE_PRIMARY:
            continue
        if wanted is not None and g.role == wanted:
            return i
        if generic is None and g.role == router_pb2.GROUP_ROLE_FALLBACK:
            generic = i
    return generic


def retries_for(policy: router_pb2.RetryPolicy, kind: int) -> int:
    """How many times an error of ``kind`` is retried within a group: ``retry_policy`` per error
    kind wins (it may retry kinds that are not retried by default, e.g.
    AuthenticationErrorRetries); otherwise ``num_retries`` for retryable kinds."""
    by_kind = policy.retries_by_kind
    if kind in by_kind:
        return by_kind[kind]
    return policy.num_retries if kind in RETRYABLE else 0


def backoff(
    policy: router_pb2.RetryPolicy,
    err: error_pb2.Error,
    tries: int,
    *,
    same_deployment: bool,
    remaining: float,
) -> float:
    """Seconds to wait before retry number ``tries`` (from 1) after ``err``, with ``remaining``
    seconds left of the request. Moving to another deployment waits only the configured
    ``retry_after``; retrying the same one honours its ``retry-after`` and backs off exponentially
    on rate limits. Never past the request's deadline."""
    wait = policy.retry_after_seconds
    if same_deployment:
        if err.HasField("retry_after_seconds"):
            wait = max(wait, err.retry_after_seconds)
        elif err.kind == ErrorKind.ERROR_KIND_RATE_LIMIT:
            wait = max(wait, min(0.25 * 2 ** (tries - 1), _MAX_RATE_LIMIT_BACKOFF))
    return min(wait, max(0.0, remaining - _DEADLINE_MARGIN), _MAX_WAIT)


def adapter_unreachable(err: error_pb2.Error) -> bool:
    """Our own provider adapter did not answer (no provider named): every other deployment goes
    through it too, so the request ends here instead of retrying or falling back."""
    return err.kind == ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE and not err.provider
