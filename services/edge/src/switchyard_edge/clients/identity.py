"""The auth service's management API (accounts, organisations, teams, users, customers, budget
objects, keys), for the management routes: one call by RPC name, its refusal as a GatewayError
(the error's own status: 400, 403, 404, ...) and a peer that does not answer as a 503. A write
drops the principals it made stale from this edge's cache at once (the identity event does the
same on every replica, a moment later)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from google.protobuf.message import Message

from switchyard.auth.v1 import (
    accounts_pb2_grpc,
    budget_objects_pb2_grpc,
    customers_pb2_grpc,
    keys_pb2_grpc,
    organizations_pb2_grpc,
    teams_pb2_grpc,
    users_pb2_grpc,
)
from switchyard_common.tracing import traced_stub
from switchyard_edge.clients.peers import Peers
from switchyard_edge.clients.principals import Principals
from switchyard_edge.errors import GatewayError, from_peer

_TIMEOUT = 5.0

# Entities in a write's answer → the principal-cache references they name (kind, id field).
_ENTITY_REFS: dict[str, tuple[tuple[str, str], ...]] = {
    "KeyInfo": (("key", "key_hash"), ("key_id", "key_id")),
    "Team": (("team", "team_id"),),
    "TeamMember": (("user", "user_id"),),
    "User": (("user", "user_id"),),
    "Organization": (("org", "organization_id"),),
    "OrganizationMember": (("user", "user_id"),),
    "Account": (("account", "account_id"),),
}
# Id fields of a write's answer → the reference kind they name.
_ID_REFS = {
    "previous_key_hash": "key",
    "deleted_key_hashes": "key",
    "deleted_key_ids": "key_id",
    "deleted_team_ids": "team",
    "deleted_organization_ids": "org",
}


def stale_refs(resp: Message) -> Iterator[tuple[str, str]]:
    """The principal-cache references a write's answer makes stale."""
    for f, value in resp.ListFields():
        if f.message_type is not None:
            for item in value if f.is_repeated else (value,):
                for kind, id_field in _ENTITY_REFS.get(f.message_type.name, ()):
                    if ident := getattr(item, id_field):
                        yield kind, ident
        elif ref := _ID_REFS.get(f.name):
            yield from ((ref, v) for v in (value if f.is_repeated else (value,)) if v)


class IdentityClient:
    def __init__(self, peers: Peers, principals: Principals) -> None:
        ch = peers.auth_channel
        self._principals = principals
        self._stubs: dict[str, Any] = {
            "AuthService": peers.auth,
            "KeyService": traced_stub(keys_pb2_grpc.KeyServiceStub(ch)),
            "AccountService": traced_stub(accounts_pb2_grpc.AccountServiceStub(ch)),
            "OrganizationService": traced_stub(organizations_pb2_grpc.OrganizationServiceStub(ch)),
            "TeamService": traced_stub(teams_pb2_grpc.TeamServiceStub(ch)),
            "UserService": traced_stub(users_pb2_grpc.UserServiceStub(ch)),
            "CustomerService": traced_stub(customers_pb2_grpc.CustomerServiceStub(ch)),
            "BudgetObjectService": traced_stub(budget_objects_pb2_grpc.BudgetObjectServiceStub(ch)),
        }

    async def call(self, rpc: str, request: Message, *, write: bool) -> Any:
        """The answer of ``rpc`` ("TeamService.CreateTeam"); its ``error`` is raised."""
        service, method = rpc.split(".")
        resp = await from_peer("auth", getattr(self._stubs[service], method)(request, timeout=_TIMEOUT))
        if resp.HasField("error"):
            raise GatewayError(resp.error)
        if write:
            self._principals.invalidate(stale_refs(resp))
        return resp
