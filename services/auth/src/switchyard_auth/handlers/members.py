"""Memberships of teams and organisations: naming the user (by id, or by e-mail — an unknown
e-mail becomes a new internal user, as LiteLLM's member_add does) and their events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from switchyard.auth.v1 import users_pb2
from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.repository import ReadTx, WriteTx
from switchyard_auth.clients.rows import TEAMS, USERS, to_columns
from switchyard_auth.domain.authz import Caller
from switchyard_auth.domain.settings import Invalid, check_email
from switchyard_auth.handlers import views
from switchyard_auth.handlers.entities import check_id
from switchyard_auth.handlers.events import A, E, entity_event


async def resolve_user(
    tx: WriteTx, caller: Caller, user_id: str, email: str, events: list[identity_pb2.IdentityEvent]
) -> Any:
    """The user a member entry names; an unknown e-mail creates an internal user (its event is
    added to ``events``)."""
    if user_id:
        row = await tx.get(USERS, user_id)
        if row is None:
            raise Invalid(f"user '{user_id}' not found", "user_id")
        return row
    if not email:
        raise Invalid("each member needs a user_id or a user_email", "user_id")
    check_email(email)
    row = await tx.user_by_email(email)
    if row is not None:
        return row
    settings = users_pb2.UserSettings(user_email=email, user_role="internal_user")
    try:
        row = await tx.insert(USERS, (check_id("", "user_id"),), to_columns(USERS, settings), created_by=caller.label)
    except asyncpg.UniqueViolationError:
        raise Invalid("A user with this user_email already exists in the account.", "user_email") from None
    user = (await views.users(tx, [row]))[0]
    events.append(
        entity_event(
            A.IDENTITY_ACTION_CREATED, E.IDENTITY_ENTITY_USER, user.account_id, user.user_id, user.version, user
        )
    )
    return row


async def team_member_events(
    tx: ReadTx, action: identity_pb2.IdentityAction, rows: Sequence[Any], team_rows: Sequence[Any] = ()
) -> list[identity_pb2.IdentityEvent]:
    """Events of team memberships (their limits take the window of their team's budget)."""
    if not rows:
        return []
    teams = list(team_rows) or await tx.get_many(TEAMS, {r["team_id"] for r in rows})
    budgets = await tx.budgets([*(r["budget_id"] or "" for r in rows), *(t["budget_id"] or "" for t in teams)])
    durations = {t["team_id"]: views.team_view(t, budgets)[1].budget_duration for t in teams}
    out = []
    for r in rows:
        m = views.member_view(r, durations.get(r["team_id"], ""), budgets)
        out.append(
            entity_event(
                action,
                E.IDENTITY_ENTITY_TEAM_MEMBER,
                r["account_id"],
                m.team_id,
                m.version,
                m,
                limit=m.limit if m.HasField("limit") else None,
                member_user_id=m.user_id,
            )
        )
    return out


def organization_member_events(
    action: identity_pb2.IdentityAction, rows: Sequence[Any]
) -> list[identity_pb2.IdentityEvent]:
    out = []
    for r in rows:
        m = views.org_member_view(r)
        out.append(
            entity_event(
                action,
                E.IDENTITY_ENTITY_ORGANIZATION_MEMBER,
                r["account_id"],
                m.organization_id,
                r["version"],
                m,
                member_user_id=m.user_id,
            )
        )
    return out
