"""Memberships of teams and organisations: naming the user (by id, or by e-mail — an unknown
e-mail becomes a new internal user, as LiteLLM's member_add does) and their events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from switchyard.auth.v1 import users_pb2
from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.repository import ReadTx, WriteTx
from switchyard_auth.clients.rows import TEAMS, USERS, Table, to_columns
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


async def find_member(tx: ReadTx, table: Table, parent_id: str, user_id: str, email: str) -> Any:
    """A membership (team or organisation, by ``table``) named by the user's id or e-mail, locked
    for the change that follows."""
    if not user_id and email:
        user = await tx.user_by_email(email)
        user_id = user["user_id"] if user is not None else ""
    if not user_id:
        raise Invalid("name the member by user_id or user_email", "user_id")
    member = await tx.get(table, parent_id, user_id, for_update=True)
    if member is None:
        noun = table.ids[0].removesuffix("_id")
        raise Invalid(f"user '{user_id}' is not a member of {noun} '{parent_id}'", "user_id")
    return member


async def remove_members(
    tx: WriteTx, table: Table, parent_id: str, user_ids: Sequence[str], emails: Sequence[str]
) -> list[Any]:
    """Delete memberships named by user id or e-mail, all or none; they come back with new
    versions."""
    if not user_ids and not emails:
        raise Invalid("name at least one member in user_ids or user_emails", "user_ids")
    members = [await find_member(tx, table, parent_id, u, "") for u in user_ids]
    members += [await find_member(tx, table, parent_id, "", e) for e in emails]
    deleted = []
    for user_id in dict.fromkeys(m["user_id"] for m in members):
        row = await tx.delete(table, (parent_id, user_id))
        assert row is not None
        deleted.append(row)
    return deleted


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
