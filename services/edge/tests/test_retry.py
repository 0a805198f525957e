"""Retry and fallback decisions (domain/retry.py): which group comes next after an error, how
many retries an error gets, and how long to wait before one."""

from __future__ import annotations

import pytest

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2
from switchyard_edge.domain import retry
from switchyard_llm.errors import make_error

R = router_pb2


def _groups(*roles: int) -> list[router_pb2.CandidateGroup]:
    return [R.CandidateGroup(model_group=f"g{i}", role=role) for i, role in enumerate(roles)]  # type: ignore[arg-type]


def _err(kind: int, **kw: object) -> error_pb2.Error:
    return make_error(kind, "x", **kw)  # type: ignore[arg-type]


def test_the_first_group_comes_first() -> None:
    assert retry.next_group(_groups(R.GROUP_ROLE_PRIMARY, R.GROUP_ROLE_FALLBACK), None, {0}) == 0
    assert retry.next_group([], None, {0}) is None


def test_a_client_mistake_never_falls_back() -> None:
    groups = _groups(R.GROUP_ROLE_PRIMARY, R.GROUP_ROLE_FALLBACK)
    assert retry.next_group(groups, _err(ErrorKind.ERROR_KIND_BAD_REQUEST), {0}) is None
    assert retry.next_group(groups, _err(ErrorKind.ERROR_KIND_INTERNAL_SERVER), {0}) == 1


def test_the_fallback_made_for_the_error_comes_before_the_generic_one() -> None:
    groups = _groups(
        R.GROUP_ROLE_PRIMARY,
        R.GROUP_ROLE_FALLBACK,
        R.GROUP_ROLE_CONTEXT_WINDOW_FALLBACK,
        R.GROUP_ROLE_CONTENT_POLICY_FALLBACK,
    )
    assert retry.next_group(groups, _err(ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED), {0}) == 2
    assert retry.next_group(groups, _err(ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION), {0}) == 3
    assert retry.next_group(groups, _err(ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED), {0, 2}) == 1, (
        "then the generic one"
    )
    assert retry.next_group(groups, _err(ErrorKind.ERROR_KIND_RATE_LIMIT), {0}) == 1, "other errors: generic only"
    assert retry.next_group(groups, _err(ErrorKind.ERROR_KIND_RATE_LIMIT), {0, 1}) is None


def test_the_primary_group_is_never_fallen_back_to() -> None:
    groups = _groups(R.GROUP_ROLE_FALLBACK, R.GROUP_ROLE_PRIMARY)
    assert retry.next_group(groups, _err(ErrorKind.ERROR_KIND_TIMEOUT), {0}) is None


def test_retries_per_kind_win_over_the_count_for_retryable_kinds() -> None:
    policy = R.RetryPolicy(
        num_retries=2, retries_by_kind={ErrorKind.ERROR_KIND_AUTHENTICATION: 1, ErrorKind.ERROR_KIND_TIMEOUT: 0}
    )
    assert retry.retries_for(policy, ErrorKind.ERROR_KIND_RATE_LIMIT) == 2
    assert retry.retries_for(policy, ErrorKind.ERROR_KIND_TIMEOUT) == 0
    assert retry.retries_for(policy, ErrorKind.ERROR_KIND_AUTHENTICATION) == 1, (
        "retried only because the policy says so"
    )
    assert retry.retries_for(policy, ErrorKind.ERROR_KIND_BAD_REQUEST) == 0


@pytest.mark.parametrize(
    ("err", "tries", "same", "remaining", "wait"),
    [
        # Another deployment: only the configured pause, whatever the provider said.
        (_err(ErrorKind.ERROR_KIND_RATE_LIMIT, retry_after=5.0), 1, False, 30.0, 0.1),
        # The same deployment: its retry-after ...
        (_err(ErrorKind.ERROR_KIND_RATE_LIMIT, retry_after=5.0), 1, True, 30.0, 5.0),
        # ... or an exponential backoff on rate limits, capped at 8 s ...
        (_err(ErrorKind.ERROR_KIND_RATE_LIMIT), 3, True, 30.0, 1.0),
        (_err(ErrorKind.ERROR_KIND_RATE_LIMIT), 9, True, 30.0, 8.0),
        # ... and none on other errors.
        (_err(ErrorKind.ERROR_KIND_INTERNAL_SERVER), 3, True, 30.0, 0.1),
        # Never past the request's deadline, nor longer than a minute.
        (_err(ErrorKind.ERROR_KIND_RATE_LIMIT, retry_after=5.0), 1, True, 2.05, 2.0),
        (_err(ErrorKind.ERROR_KIND_RATE_LIMIT, retry_after=5.0), 1, True, 0.01, 0.0),
        (_err(ErrorKind.ERROR_KIND_RATE_LIMIT, retry_after=500.0), 1, True, 900.0, 60.0),
    ],
)
def test_backoff(err: error_pb2.Error, tries: int, same: bool, remaining: float, wait: float) -> None:
    policy = R.RetryPolicy(retry_after_seconds=0.1)
    assert retry.backoff(policy, err, tries, same_deployment=same, remaining=remaining) == pytest.approx(wait)


def test_only_our_own_adapter_being_down_ends_the_request_at_once() -> None:
    assert retry.adapter_unreachable(_err(ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE))
    assert not retry.adapter_unreachable(_err(ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE, provider="openai"))
    assert not retry.adapter_unreachable(_err(ErrorKind.ERROR_KIND_INTERNAL_SERVER))
