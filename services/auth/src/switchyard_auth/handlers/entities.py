"""The steps every tenant entity's RPCs share (teams, users, organisations, customers, budget
objects): load one with the authorization check, check what its settings point to, bound it by
the account's entitlements, create, update and delete it, and the identity event of each change."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from google.protobuf.message import Message

from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.repository import ReadTx, WriteTx
from switchyard_auth.clients.rows import BUDGETS, ORGANIZATIONS, Table, settings_from_row, to_columns
from switchyard_auth.domain import authz, entitlements
from switchyard_auth.domain.authz import Caller, Op, Target
from switchyard_auth.domain.settings import Invalid, merged, validate
from switchyard_auth.handlers.common import Core, denied, not_found
from switchyard_auth.handlers.events import A, state_event
from switchyard_llm.event_fields import MAX_ID_CHARS, text_problem

View = Callable[[ReadTx, Sequence[Any]], Awaitable[list[Any]]]
TargetOf = Callable[[ReadTx, Any], Awaitable[Target]]

# Settings fields that name another entity of the account, by name: checked to exist.
_REFERENCES: dict[str, tuple[Table, str]] = {
    "organization_id": (ORGANIZATIONS, "organization"),
    "budget_id": (BUDGETS, "budget"),
}
# Amounts bounded by the account's max_budget entitlement.
_BOUNDED_AMOUNTS = ("max_budget", "max_budget_in_team")


@dataclass(frozen=True)
class Noun:
    name: str
    table: Table
    id_param: str
    entity: identity_pb2.IdentityEntity
    create: Op
    read: Op
    update: Op
    delete: Op
    # The entitlement a creation counts against, if any.
    counted: str = ""


async def account_target(tx: ReadTx, row: Any) -> Target:
    return Target(account_id=row["account_id"])


def check_id(value: str, param: str) -> str:
    """A client-chosen id, or a new UUID."""
    if not value:
        return str(uuid.uuid4())
    if problem := text_problem(value, param, MAX_ID_CHARS):
        raise Invalid(problem, param)
    if value != value.strip():
        raise Invalid(f"'{param}' must not start or end with spaces", param)
    return value


async def check_references(tx: ReadTx, settings: Message, changed: Collection[str]) -> None:
    for field_name, (table, noun) in _REFERENCES.items():
        if field_name in changed and field_name in settings.DESCRIPTOR.fields_by_name:
            value = getattr(settings, field_name)
            if value and await tx.get(table, value) is None:
                raise Invalid(f"{noun} '{value}' not found", field_name)


async def check_entitlements(
    tx: WriteTx, settings: Message, changed: Collection[str], *, count: tuple[str, Table] | None = None, adding: int = 1
) -> None:
    """Bound a write by the account's entitlements: the count of ``count``'s table (creations)
    and the amounts it sets. The account row stays locked until the transaction ends, so
    concurrent creations are counted one after another."""
    amounts = [
        (f, getattr(settings, f))
        for f in _BOUNDED_AMOUNTS
        if f in changed and f in settings.DESCRIPTOR.fields_by_name and getattr(settings, f)
    ]
    if not amounts and count is None:
        return
    account = await tx.lock_account()
    assert account is not None
    ent = entitlements.from_json(account["entitlements"] or {})
    if count is not None:
        entitlements.check_count(ent, count[0], await tx.count(count[1]), adding)
    for name, amount in amounts:
        entitlements.check_budget(ent, amount, name)


def unique_problem(exc: asyncpg.UniqueViolationError, noun: str, ident: str, param: str) -> Invalid:
    if "email" in (exc.constraint_name or ""):
        return Invalid("A user with this user_email already exists in the account.", "user_email")
    return Invalid(f"{noun} '{ident}' already exists", param)


class Entities:
    """One noun's shared steps."""

    def __init__(self, core: Core, noun: Noun, view: View, target: TargetOf = account_target) -> None:
        self.core = core
        self.noun = noun
        self.view = view
        self.target = target

    async def load(self, tx: ReadTx, caller: Caller, ident: str, op: Op, *, for_update: bool = False) -> Any:
        n = self.noun
        if not ident:
            raise Invalid(f"'{n.id_param}' is required", n.id_param)
        row = await tx.get(n.table, ident, for_update=for_update)
        if row is None:
            raise not_found(n.name, ident, n.id_param)
        Core.check(caller, op, await self.target(tx, row), n.read, n.name, ident, n.id_param)
        return row

    async def one(self, tx: ReadTx, row: Any) -> Any:
        return (await self.view(tx.within(row["account_id"]), [row]))[0]

    def event(self, action: identity_pb2.IdentityAction, msg: Any) -> identity_pb2.IdentityEvent:
        return state_event(action, self.noun.entity, msg, self.noun.id_param)

    async def insert(self, tx: WriteTx, caller: Caller, ident: str, settings: Message) -> Any:
        """Create the row (after the checks every creation needs) in ``tx``'s account."""
        n = self.noun
        if not authz.allowed(caller, n.create, Target(tx.account_id)):
            raise denied(f"Your role may not do this ({n.create.value}).")
        validate(settings)
        ident = check_id(ident, n.id_param)
        every = {f.name for f in settings.DESCRIPTOR.fields}
        await check_references(tx, settings, every)
        await check_entitlements(tx, settings, every, count=(n.counted, n.table) if n.counted else None)
        try:
            return await tx.insert(n.table, (ident,), to_columns(n.table, settings), created_by=caller.label)
        except asyncpg.UniqueViolationError as exc:
            raise unique_problem(exc, n.name, ident, n.id_param) from None

    async def update(
        self,
        tx: WriteTx,
        caller: Caller,
        ident: str,
        settings: Message,
        paths: Sequence[str],
        *,
        op: Op | None = None,
        check: Callable[[Any, set[str]], Awaitable[None]] | None = None,
    ) -> tuple[Any, set[str]]:
        """Apply an update mask (``op``: the operation it counts as, the noun's update unless
        said; ``check``: a further check of the merged settings). Returns the new row and the
        top-level fields changed."""
        n = self.noun
        row = await self.load(tx, caller, ident, op or n.update, for_update=True)
        new, fields = merged(settings_from_row(n.table, row), settings, paths)
        validate(new, only=fields)
        await check_references(tx, new, fields)
        await check_entitlements(tx, new, fields)
        if check is not None:
            await check(new, fields)
        try:
            updated = await tx.update(n.table, (ident,), to_columns(n.table, new, paths))
        except asyncpg.UniqueViolationError as exc:
            raise unique_problem(exc, n.name, ident, n.id_param) from None
        assert updated is not None
        return updated, fields

    async def load_all(self, tx: ReadTx, caller: Caller, ids: Sequence[str], op: Op) -> list[Any]:
        """Several objects for ``op``, all or none: each must exist and be the caller's to touch."""
        n = self.noun
        if not ids:
            raise Invalid(f"name at least one {n.name}", f"{n.id_param}s")
        return [await self.load(tx, caller, ident, op, for_update=True) for ident in dict.fromkeys(ids)]

    async def delete_rows(self, tx: WriteTx, ids: Sequence[str]) -> list[Any]:
        """Delete rows ``load_all`` checked; they come back as they were, with new versions."""
        deleted = []
        for ident in dict.fromkeys(ids):
            row = await tx.delete(self.noun.table, (ident,))
            assert row is not None
            deleted.append(row)
        return deleted

    def changed_event(self, msg: Any, fields: Collection[str]) -> identity_pb2.IdentityEvent:
        """The event of an update: BLOCKED when it blocked the entity, else UPDATED."""
        blocked = "blocked" in fields and msg.settings.blocked
        return self.event(A.IDENTITY_ACTION_BLOCKED if blocked else A.IDENTITY_ACTION_UPDATED, msg)
