"""Stored rows → the API's entity messages, with the limits in force (own fields, else the budget
object's) and related rows (members, teams) read in the same scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import asyncpg

from switchyard.auth.v1 import (
    accounts_pb2,
    auth_pb2,
    budget_objects_pb2,
    customers_pb2,
    organizations_pb2,
    teams_pb2,
    users_pb2,
)
from switchyard_auth.clients.repository import ReadTx
from switchyard_auth.clients.rows import (
    ACCOUNTS_SETTINGS,
    BUDGETS,
    CUSTOMERS,
    KEYS,
    ORGANIZATIONS,
    TEAMS,
    USERS,
    Row,
    settings_from_row,
    ts,
    usd,
)
from switchyard_auth.domain import entitlements, limits
from switchyard_auth.domain.limits import Limits

Budgets = Mapping[str, Row]


def budget_limits(budgets: Budgets, budget_id: str) -> Limits | None:
    row = budgets.get(budget_id) if budget_id else None
    return limits.of(settings_from_row(BUDGETS, row)) if row is not None else None


def _apply(out: Any, settings: Any, budgets: Budgets, version: int) -> Limits:
    eff = limits.effective(limits.of(settings), budget_limits(budgets, settings.budget_id))
    if (sl := limits.spend_limit(eff, version)) is not None:
        out.limit.CopyFrom(sl)
    if hasattr(out, "rate_limits"):
        out.rate_limits.CopyFrom(limits.rate_limits(eff))
    return eff


def _entity(cls: Any, table: Any, id_field: str, row: Row) -> Any:
    """An entity message (Team, User, Organization, Customer) with the fields every one has."""
    return cls(
        **{id_field: row[id_field]},
        account_id=row["account_id"],
        settings=settings_from_row(table, row),
        created_at=ts(row["created_at"]),
        updated_at=ts(row["updated_at"]),
        created_by=row["created_by"] or "",
        version=row["version"],
    )


def key_info(row: Row, budgets: Budgets) -> auth_pb2.KeyInfo:
    settings = settings_from_row(KEYS, row)
    info = auth_pb2.KeyInfo(
        key_hash=row["key_hash"],
        key_id=row["key_id"],
        key_name=row["key_name"],
        account_id=row["account_id"],
        settings=settings,
        created_at=ts(row["created_at"]),
        updated_at=ts(row["updated_at"]),
        expires_at=ts(row["expires_at"]),
        version=row["settings_version"],
        created_by=row["created_by"] or "",
    )
    _apply(info, settings, budgets, info.version)
    return info


def budget_view(row: Row) -> budget_objects_pb2.BudgetObject:
    return budget_objects_pb2.BudgetObject(
        budget_id=row["budget_id"],
        account_id=row["account_id"],
        settings=settings_from_row(BUDGETS, row),
        created_at=ts(row["created_at"]),
        updated_at=ts(row["updated_at"]),
        created_by=row["created_by"] or "",
        version=row["version"],
    )


def customer_view(row: Row, budgets: Budgets) -> customers_pb2.Customer:
    msg: customers_pb2.Customer = _entity(customers_pb2.Customer, CUSTOMERS, "user_id", row)
    _apply(msg, msg.settings, budgets, msg.version)
    return msg


def member_view(row: Row, team_duration: str, budgets: Budgets) -> teams_pb2.TeamMember:
    m = teams_pb2.TeamMember(
        team_id=row["team_id"],
        user_id=row["user_id"],
        user_email=row.get("user_email", "") or "",
        role=row["role"],
        max_budget_in_team=usd(row["max_budget_in_team"]),
        budget_id=row["budget_id"] or "",
        created_at=ts(row["created_at"]),
        version=row["version"],
    )
    eff = limits.member(m.max_budget_in_team, budget_limits(budgets, m.budget_id), team_duration)
    if (sl := limits.spend_limit(eff, m.version)) is not None:
        m.limit.CopyFrom(sl)
    return m


def org_member_view(row: Row) -> organizations_pb2.OrganizationMember:
    return organizations_pb2.OrganizationMember(
        organization_id=row["organization_id"],
        user_id=row["user_id"],
        user_email=row.get("user_email", "") or "",
        user_role=row["user_role"],
        budget_id=row["budget_id"] or "",
        created_at=ts(row["created_at"]),
    )


def team_view(row: Row, budgets: Budgets) -> tuple[teams_pb2.Team, Limits]:
    t: teams_pb2.Team = _entity(teams_pb2.Team, TEAMS, "team_id", row)
    return t, _apply(t, t.settings, budgets, t.version)


def user_view(row: Row, budgets: Budgets) -> users_pb2.User:
    msg: users_pb2.User = _entity(users_pb2.User, USERS, "user_id", row)
    _apply(msg, msg.settings, budgets, msg.version)
    return msg


def org_view(row: Row, budgets: Budgets) -> organizations_pb2.Organization:
    msg: organizations_pb2.Organization = _entity(organizations_pb2.Organization, ORGANIZATIONS, "organization_id", row)
    _apply(msg, msg.settings, budgets, msg.version)
    return msg


def account_view(row: Row) -> accounts_pb2.Account:
    return accounts_pb2.Account(
        account_id=row["account_id"],
        settings=settings_from_row(ACCOUNTS_SETTINGS, row),
        entitlements=entitlements.from_json(row["entitlements"] or {}),
        created_at=ts(row["created_at"]),
        updated_at=ts(row["updated_at"]),
        created_by=row["created_by"] or "",
        version=row["version"],
    )


def admin_view(row: Row) -> accounts_pb2.AccountAdmin:
    return accounts_pb2.AccountAdmin(
        account_id=row["account_id"], user_email=row["user_email"], role=row["role"], created_at=ts(row["created_at"])
    )


def _by_account(rows: Iterable[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        out[r["account_id"]].append(r)
    return out


async def _budgets_for(tx: ReadTx, rows: Iterable[Row], column: str = "budget_id") -> Budgets:
    return await tx.budgets(r[column] or "" for r in rows)


async def keys(tx: ReadTx, rows: Sequence[Row]) -> list[auth_pb2.KeyInfo]:
    out: dict[str, auth_pb2.KeyInfo] = {}
    for account, group in _by_account(rows).items():
        sub = tx.within(account)
        budgets = await _budgets_for(sub, group)
        for r in group:
            out[r["key_id"]] = key_info(r, budgets)
    return [out[r["key_id"]] for r in rows]


async def customers(tx: ReadTx, rows: Sequence[Row]) -> list[customers_pb2.Customer]:
    out = {}
    for account, group in _by_account(rows).items():
        budgets = await _budgets_for(tx.within(account), group)
        for r in group:
            out[(account, r["user_id"])] = customer_view(r, budgets)
    return [out[(r["account_id"], r["user_id"])] for r in rows]


async def teams(tx: ReadTx, rows: Sequence[Row], *, members: bool = True) -> list[teams_pb2.Team]:
    out = {}
    for account, group in _by_account(rows).items():
        sub = tx.within(account)
        member_rows = await sub.team_members([r["team_id"] for r in group]) if members else []
        budgets = await sub.budgets(
            [*(r["budget_id"] or "" for r in group), *(m["budget_id"] or "" for m in member_rows)]
        )
        by_team: dict[str, list[asyncpg.Record]] = defaultdict(list)
        for m in member_rows:
            by_team[m["team_id"]].append(m)
        for r in group:
            t, eff = team_view(r, budgets)
            t.members.extend(member_view(m, eff.budget_duration, budgets) for m in by_team[r["team_id"]])
            out[(account, r["team_id"])] = t
    return [out[(r["account_id"], r["team_id"])] for r in rows]


async def users(tx: ReadTx, rows: Sequence[Row]) -> list[users_pb2.User]:
    out = {}
    for account, group in _by_account(rows).items():
        sub = tx.within(account)
        memberships = await sub.memberships([r["user_id"] for r in group])
        team_rows = await sub.get_many(TEAMS, {m["team_id"] for m in memberships})
        budgets = await sub.budgets(
            [
                *(r["budget_id"] or "" for r in group),
                *(m["budget_id"] or "" for m in memberships),
                *(t["budget_id"] or "" for t in team_rows),
            ]
        )
        durations = {t["team_id"]: team_view(t, budgets)[1].budget_duration for t in team_rows}
        by_user: dict[str, list[asyncpg.Record]] = defaultdict(list)
        for m in memberships:
            by_user[m["user_id"]].append(m)
        for r in group:
            u = user_view(r, budgets)
            u.memberships.extend(
                member_view(m, durations.get(m["team_id"], ""), budgets) for m in by_user[r["user_id"]]
            )
            out[(account, r["user_id"])] = u
    return [out[(r["account_id"], r["user_id"])] for r in rows]


async def organizations(tx: ReadTx, rows: Sequence[Row]) -> list[organizations_pb2.Organization]:
    out = {}
    for account, group in _by_account(rows).items():
        sub = tx.within(account)
        ids = [r["organization_id"] for r in group]
        member_rows = await sub.organization_members(ids)
        team_rows = await sub.organization_teams(ids)
        budgets = await _budgets_for(sub, group)
        members: dict[str, list[asyncpg.Record]] = defaultdict(list)
        for m in member_rows:
            members[m["organization_id"]].append(m)
        team_ids: dict[str, list[str]] = defaultdict(list)
        for t in team_rows:
            team_ids[t["organization_id"]].append(t["team_id"])
        for r in group:
            o = org_view(r, budgets)
            o.members.extend(org_member_view(m) for m in members[r["organization_id"]])
            o.teams.extend(team_ids[r["organization_id"]])
            out[(account, r["organization_id"])] = o
    return [out[(r["account_id"], r["organization_id"])] for r in rows]
