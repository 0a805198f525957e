"""Who may do what: one table from operation to the reach each role has, and the pure checks
built on it. The auth service applies it to every management RPC (``allowed`` for one object,
``visibility`` for lists); the edge may import ``TABLE`` to gate its HTTP routes the same way.

A caller holds one base role (from its credential: the master key is a super admin; a key of a
user has the user's LiteLLM role; a key of no user is ``KEY``) plus, per team it belongs to, the
team role (``TEAM_ADMIN`` or ``TEAM_USER``). Each row says how far a role reaches for one
operation; a caller may act on an object when any of its roles reaches it. The rules follow
LiteLLM's: admins manage the account, viewers only read, an internal user manages their own keys,
a team admin their team's keys and members (docs/tenancy.md has the table as prose)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Final


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    # An account admin (LiteLLM's proxy_admin, scoped to one account).
    PROXY_ADMIN = "proxy_admin"
    PROXY_ADMIN_VIEWER = "proxy_admin_viewer"
    INTERNAL_USER = "internal_user"
    INTERNAL_USER_VIEWER = "internal_user_viewer"
    # Team roles: they reach only the teams where the caller holds them.
    TEAM_ADMIN = "team_admin"
    TEAM_USER = "team_user"
    # A virtual key that belongs to no user of its account.
    KEY = "key"


# The roles a user row may have (LiteLLM's `user_role`).
USER_ROLES: Final = frozenset(
    {Role.PROXY_ADMIN, Role.PROXY_ADMIN_VIEWER, Role.INTERNAL_USER, Role.INTERNAL_USER_VIEWER}
)


class Reach(IntEnum):
    NONE = 0
    # The caller's own key (keys) or own user (users).
    SELF = 1
    # Objects the caller's user owns: keys whose user_id is theirs, and their own user.
    OWN = 2
    # Objects of a team where the caller holds the row's team role.
    TEAM = 3
    # Every object of the caller's account.
    ACCOUNT = 4
    # Every account.
    ALL = 5


class Op(StrEnum):
    ACCOUNT_CREATE = "account.create"
    ACCOUNT_LIST = "account.list"
    ACCOUNT_READ = "account.read"
    ACCOUNT_UPDATE = "account.update"
    ACCOUNT_DELETE = "account.delete"
    ACCOUNT_ADMINS_READ = "account.admins.read"
    ACCOUNT_ADMINS_WRITE = "account.admins.write"
    ENTITLEMENTS_READ = "entitlements.read"
    ENTITLEMENTS_UPDATE = "entitlements.update"
    ORG_CREATE = "organization.create"
    ORG_READ = "organization.read"
    ORG_UPDATE = "organization.update"
    ORG_DELETE = "organization.delete"
    ORG_MEMBERS_WRITE = "organization.members.write"
    TEAM_CREATE = "team.create"
    TEAM_READ = "team.read"
    TEAM_UPDATE = "team.update"
    TEAM_DELETE = "team.delete"
    TEAM_MEMBERS_WRITE = "team.members.write"
    TEAM_MODELS_WRITE = "team.models.write"
    TEAM_BLOCK = "team.block"
    USER_CREATE = "user.create"
    USER_READ = "user.read"
    USER_UPDATE = "user.update"
    USER_DELETE = "user.delete"
    CUSTOMER_CREATE = "customer.create"
    CUSTOMER_READ = "customer.read"
    CUSTOMER_UPDATE = "customer.update"
    CUSTOMER_DELETE = "customer.delete"
    CUSTOMER_BLOCK = "customer.block"
    BUDGET_CREATE = "budget.create"
    BUDGET_READ = "budget.read"
    BUDGET_UPDATE = "budget.update"
    BUDGET_DELETE = "budget.delete"
    KEY_CREATE = "key.create"
    KEY_READ = "key.read"
    KEY_UPDATE = "key.update"
    KEY_REGENERATE = "key.regenerate"
    KEY_BLOCK = "key.block"
    KEY_DELETE = "key.delete"


_S, _A, _AV = Role.SUPER_ADMIN, Role.PROXY_ADMIN, Role.PROXY_ADMIN_VIEWER
_U, _UV, _TA, _TU, _K = Role.INTERNAL_USER, Role.INTERNAL_USER_VIEWER, Role.TEAM_ADMIN, Role.TEAM_USER, Role.KEY
_ALL, _ACC, _TEAM, _OWN, _SELF = Reach.ALL, Reach.ACCOUNT, Reach.TEAM, Reach.OWN, Reach.SELF

# Reads every role of the account may do: the entitlements say which features the console shows.
_EVERYONE_IN_ACCOUNT: Final = {_A: _ACC, _AV: _ACC, _U: _ACC, _UV: _ACC, _TA: _ACC, _TU: _ACC, _K: _ACC}
# Writes to the account's objects: account admins only.
_ADMINS: Final = {_A: _ACC}
# Reads of the account's objects: admins and admin viewers.
_ADMIN_READERS: Final = {_A: _ACC, _AV: _ACC}

# operation → role → reach. A role missing from a row has no reach. The super admin reaches
# every account for every operation (added below).
TABLE: Final[Mapping[Op, Mapping[Role, Reach]]] = {
    op: {_S: _ALL, **rights}
    for op, rights in {
        # Accounts are the super admin's; an account's own people may read it.
        Op.ACCOUNT_CREATE: {},
        Op.ACCOUNT_LIST: {},
        Op.ACCOUNT_READ: _ADMIN_READERS,
        Op.ACCOUNT_UPDATE: {},
        Op.ACCOUNT_DELETE: {},
        Op.ACCOUNT_ADMINS_READ: _ADMIN_READERS,
        Op.ACCOUNT_ADMINS_WRITE: {},
        Op.ENTITLEMENTS_READ: _EVERYONE_IN_ACCOUNT,
        Op.ENTITLEMENTS_UPDATE: {},
        Op.ORG_CREATE: _ADMINS,
        Op.ORG_READ: _ADMIN_READERS,
        Op.ORG_UPDATE: _ADMINS,
        Op.ORG_DELETE: _ADMINS,
        Op.ORG_MEMBERS_WRITE: _ADMINS,
        Op.TEAM_CREATE: _ADMINS,
        # Members read their teams.
        Op.TEAM_READ: {**_ADMIN_READERS, _TA: _TEAM, _TU: _TEAM},
        # A team admin may not raise their own team's budget or models.
        Op.TEAM_UPDATE: _ADMINS,
        Op.TEAM_DELETE: _ADMINS,
        Op.TEAM_MEMBERS_WRITE: {_A: _ACC, _TA: _TEAM},
        Op.TEAM_MODELS_WRITE: _ADMINS,
        Op.TEAM_BLOCK: _ADMINS,
        Op.USER_CREATE: _ADMINS,
        # Users read themselves; team admins read their teams' members.
        Op.USER_READ: {**_ADMIN_READERS, _U: _SELF, _UV: _SELF, _TA: _TEAM},
        # Nobody changes their own role or budget.
        Op.USER_UPDATE: _ADMINS,
        Op.USER_DELETE: _ADMINS,
        Op.CUSTOMER_CREATE: _ADMINS,
        Op.CUSTOMER_READ: _ADMIN_READERS,
        Op.CUSTOMER_UPDATE: _ADMINS,
        Op.CUSTOMER_DELETE: _ADMINS,
        Op.CUSTOMER_BLOCK: _ADMINS,
        Op.BUDGET_CREATE: _ADMINS,
        Op.BUDGET_READ: _ADMIN_READERS,
        Op.BUDGET_UPDATE: _ADMINS,
        Op.BUDGET_DELETE: _ADMINS,
        # Keys: an internal user manages their own (within their teams' limits), a team admin
        # the team's; viewers read their own; a key of no user reads itself.
        Op.KEY_CREATE: {_A: _ACC, _U: _OWN, _TA: _TEAM},
        Op.KEY_READ: {**_ADMIN_READERS, _U: _OWN, _UV: _OWN, _TA: _TEAM, _K: _SELF},
        Op.KEY_UPDATE: {_A: _ACC, _U: _OWN, _TA: _TEAM},
        Op.KEY_REGENERATE: {_A: _ACC, _U: _OWN, _TA: _TEAM},
        Op.KEY_BLOCK: {_A: _ACC, _TA: _TEAM},
        Op.KEY_DELETE: {_A: _ACC, _U: _OWN, _TA: _TEAM},
    }.items()
}


@dataclass(frozen=True)
class Caller:
    """The verified caller of a management RPC, as auth resolved it from its credential."""

    account_id: str
    role: Role
    user_id: str = ""
    key_id: str = ""
    # Teams where the caller's user is a member with the role admin, and every team it is in.
    admin_teams: frozenset[str] = field(default_factory=frozenset)
    member_teams: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_super_admin(self) -> bool:
        return self.role is Role.SUPER_ADMIN

    @property
    def label(self) -> str:
        """Who did it, for `created_by`: the user, else the key, else the master key."""
        return self.user_id or self.key_id or "master_key"


@dataclass(frozen=True)
class Target:
    """The object an operation touches (or creates): its account and what relates it to people."""

    account_id: str
    # Set for keys (SELF compares it with the caller's key).
    key_id: str = ""
    # The user a key belongs to, or the user a user-operation is about.
    user_id: str = ""
    # The teams the object belongs to: a key's team, a team itself, a user's teams.
    team_ids: frozenset[str] = field(default_factory=frozenset)


def roles_of(caller: Caller) -> tuple[Role, ...]:
    roles = [caller.role]
    if caller.admin_teams:
        roles.append(Role.TEAM_ADMIN)
    if caller.member_teams:
        roles.append(Role.TEAM_USER)
    return tuple(roles)


def _reaches(caller: Caller, role: Role, reach: Reach, target: Target) -> bool:
    if reach is Reach.ALL:
        return True
    if reach is Reach.NONE or target.account_id != caller.account_id:
        return False
    if reach is Reach.ACCOUNT:
        return True
    if reach is Reach.TEAM:
        teams = caller.admin_teams if role is Role.TEAM_ADMIN else caller.member_teams
        return bool(target.team_ids & teams)
    if reach is Reach.OWN:
        return bool(caller.user_id) and target.user_id == caller.user_id
    # SELF: the caller's own key, or (for user operations) its own user.
    if target.key_id:
        return bool(caller.key_id) and target.key_id == caller.key_id
    return bool(caller.user_id) and target.user_id == caller.user_id


def allowed(caller: Caller, op: Op, target: Target) -> bool:
    """Whether ``caller`` may do ``op`` on ``target``."""
    row = TABLE[op]
    return any(_reaches(caller, role, row.get(role, Reach.NONE), target) for role in roles_of(caller))


def may_attempt(caller: Caller, op: Op) -> bool:
    """Whether any role of ``caller`` reaches anything for ``op`` (lists and creations start here)."""
    row = TABLE[op]
    return any(row.get(role, Reach.NONE) is not Reach.NONE for role in roles_of(caller))


@dataclass(frozen=True)
class Visibility:
    """What of an account a list shows: everything, or the union of the parts that are set."""

    everything: bool = False
    # Objects of these teams (TEAM reach).
    team_ids: frozenset[str] = field(default_factory=frozenset)
    # Objects this user owns (OWN reach): keys of the user, the user itself.
    own_user_id: str = ""
    # The caller itself (SELF reach): its key, its user.
    self_key_id: str = ""
    self_user_id: str = ""

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.team_ids or self.own_user_id or self.self_key_id or self.self_user_id)


def visibility(caller: Caller, op: Op) -> Visibility:
    """The objects of the caller's account that ``op`` reaches (the account filter is applied by
    the repository; this narrows within it)."""
    row = TABLE[op]
    teams: set[str] = set()
    own = self_key = self_user = ""
    for role in roles_of(caller):
        reach = row.get(role, Reach.NONE)
        if reach >= Reach.ACCOUNT:
            return Visibility(everything=True)
        if reach is Reach.TEAM:
            teams |= caller.admin_teams if role is Role.TEAM_ADMIN else caller.member_teams
        elif reach is Reach.OWN:
            own = caller.user_id
        elif reach is Reach.SELF:
            self_key, self_user = caller.key_id, caller.user_id
    return Visibility(team_ids=frozenset(teams), own_user_id=own, self_key_id=self_key, self_user_id=self_user)
