"""Test harness: the auth service in-process on an ephemeral port, on a real PostgreSQL database
module), with every gRPC service it serves and the identity events it publishes recorded."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from google.protobuf import field_mask_pb2

from switchyard.auth.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    budget_objects_pb2_grpc,
    customers_pb2_grpc,
    keys_pb2,
    keys_pb2_grpc,
    organizations_pb2_grpc,
    sessions_pb2_grpc,
    teams_pb2,
    teams_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
)
from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.oidc import OidcProvider
from switchyard_auth.clients.repository import Repository
from switchyard_auth.domain.sessions import KeyRing
from switchyard_auth.handlers.common import Core
from switchyard_auth.handlers.events import Publisher
from switchyard_auth.handlers.signin import SignIn, SignInConfig
from switchyard_auth.server import MIGRATIONS, SCHEMA, register_all
from switchyard_common.db import create_pool, migrate
from switchyard_common.grpc_server import GrpcService
from switchyard_common.kafka import EventProducer, KafkaSettings

MASTER = "sk-master-unit-test"
SESSION_ISSUER = "switchyard-test"
SESSION_AUDIENCE = "switchyard-test"


def new_signing_key(kind: str = "ec") -> str:
    """A PEM private key for session tokens (EC P-256, or RSA 2048)."""
    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


SESSION_KEY = new_signing_key()
ACTIONS_KEY = "actions-signing-key-of-the-tests"
SIGN_IN = SignInConfig(
    session_ttl=3600,
    scopes="openid profile email urn:zitadel:iam:user:resourceowner",
    audiences=["switchyard-web"],
    org_claim="urn:zitadel:iam:user:resourceowner:id",
    roles_claim="urn:zitadel:iam:org:project:roles",
    introspection_cache=5,
    super_admin_emails=frozenset({"root@super.test"}),
    actions_signing_key=ACTIONS_KEY,
)


class RecordingPublisher(Publisher):
    """Publishes as the service does, and keeps what it published for the test to read."""

    def __init__(self, producer: EventProducer, topic: str) -> None:
        super().__init__(producer, topic)
        self.sent: list[identity_pb2.IdentityEvent] = []

    def publish(self, events: list[identity_pb2.IdentityEvent]) -> None:
        super().publish(events)
        self.sent.extend(events)


@dataclass
class Auth:
    channel: grpc.aio.Channel
    pool: asyncpg.Pool
    publisher: RecordingPublisher
    producer: EventProducer
    # Where the events go (the test's Kafka, with a topic prefix of its own).
    kafka: KafkaSettings
    signin: SignIn
    core: Core
    auth: auth_pb2_grpc.AuthServiceStub = field(init=False)
    keys: keys_pb2_grpc.KeyServiceStub = field(init=False)
    accounts: accounts_pb2_grpc.AccountServiceStub = field(init=False)
    orgs: organizations_pb2_grpc.OrganizationServiceStub = field(init=False)
    teams: teams_pb2_grpc.TeamServiceStub = field(init=False)
    users: users_pb2_grpc.UserServiceStub = field(init=False)
    customers: customers_pb2_grpc.CustomerServiceStub = field(init=False)
    budgets: budget_objects_pb2_grpc.BudgetObjectServiceStub = field(init=False)
    sessions: sessions_pb2_grpc.SessionServiceStub = field(init=False)
    master: auth_pb2.Principal = field(init=False)

    def __post_init__(self) -> None:
        ch = self.channel
        self.auth = auth_pb2_grpc.AuthServiceStub(ch)
        self.keys = keys_pb2_grpc.KeyServiceStub(ch)
        self.accounts = accounts_pb2_grpc.AccountServiceStub(ch)
        self.orgs = organizations_pb2_grpc.OrganizationServiceStub(ch)
        self.teams = teams_pb2_grpc.TeamServiceStub(ch)
        self.users = users_pb2_grpc.UserServiceStub(ch)
        self.customers = customers_pb2_grpc.CustomerServiceStub(ch)
        self.budgets = budget_objects_pb2_grpc.BudgetObjectServiceStub(ch)
        self.sessions = sessions_pb2_grpc.SessionServiceStub(ch)

    @property
    def events(self) -> list[identity_pb2.IdentityEvent]:
        return self.publisher.sent

    async def principal(self, secret: str) -> auth_pb2.Principal:
        resp = await self.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=secret), timeout=10)
        assert resp.WhichOneof("result") == "principal", resp.error.message
        return resp.principal

    async def account(self, name: str = "", **entitlements: int | str) -> str:
        ent = accounts_pb2.Entitlements(**entitlements)  # type: ignore[arg-type]
        resp = await self.accounts.CreateAccount(
            accounts_pb2.CreateAccountRequest(
                caller=self.master,
                settings=accounts_pb2.AccountSettings(account_name=name or f"acct-{uuid.uuid4().hex[:10]}"),
                entitlements=ent,
            ),
            timeout=10,
        )
        assert not resp.HasField("error"), resp.error.message
        return resp.account.account_id

    async def user(
        self, account_id: str, role: str = "internal_user", *, email: str = "", teams: tuple[str, ...] = ()
    ) -> tuple[str, str, auth_pb2.Principal]:
        """A user of ``account_id`` with ``role`` and a key of theirs: (user_id, secret, principal)."""
        resp = await self.users.CreateUser(
            users_pb2.CreateUserRequest(
                caller=self.master,
                account_id=account_id,
                settings=users_pb2.UserSettings(
                    user_email=email or f"{uuid.uuid4().hex[:8]}@example.test", user_role=role
                ),
                teams=teams,
                create_key=True,
            ),
            timeout=10,
        )
        assert not resp.HasField("error"), resp.error.message
        return resp.user.user_id, resp.key, await self.principal(resp.key)

    async def team(self, account_id: str, **settings: object) -> str:
        resp = await self.teams.CreateTeam(
            teams_pb2.CreateTeamRequest(
                caller=self.master, account_id=account_id, settings=teams_pb2.TeamSettings(**settings)
            ),
            timeout=10,
        )
        assert not resp.HasField("error"), resp.error.message
        return resp.team.team_id

    async def member(self, account_id: str, team_id: str, user_id: str, role: str = "user") -> None:
        resp = await self.teams.AddTeamMembers(
            teams_pb2.AddTeamMembersRequest(
                caller=self.master,
                account_id=account_id,
                team_id=team_id,
                members=[teams_pb2.TeamMember(user_id=user_id, role=role)],
            ),
            timeout=10,
        )
        assert not resp.HasField("error"), resp.error.message

    async def key(self, account_id: str, **settings: object) -> tuple[str, auth_pb2.KeyInfo]:
        resp = await self.keys.CreateKey(
            keys_pb2.CreateKeyRequest(
                caller=self.master, account_id=account_id, settings=auth_pb2.KeySettings(**settings)
            ),
            timeout=10,
        )
        assert not resp.HasField("error"), resp.error.message
        return resp.key, resp.info


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


@asynccontextmanager
async def running(
    pg_dsn: str,
    producer: EventProducer,
    kafka: KafkaSettings,
    topic: str,
    *,
    session_keys: str = SESSION_KEY,
    provider: OidcProvider | None = None,
) -> AsyncIterator[Auth]:
    """The service in-process; ``session_keys`` (a PEM bundle, the first signs) and ``provider``
    (an identity provider) configure sign-in."""
    await migrate(pg_dsn, schema=SCHEMA, migrations_dir=MIGRATIONS)
    pool = await create_pool(pg_dsn, schema=SCHEMA, max_size=30)
    repo = Repository(pool)
    await repo.ensure_account("default")
    publisher = RecordingPublisher(producer, topic)
    core = Core(repo=repo, events=publisher, default_account="default", cache_ttl=30)
    ring = KeyRing(session_keys, issuer=SESSION_ISSUER, audience=SESSION_AUDIENCE)
    signin = SignIn(core, SIGN_IN, ring, provider)
    service = GrpcService(
        host="127.0.0.1",
        port=0,
        service_names=[],
        register=lambda s: register_all(s, core, signin, master_key=MASTER, trace=False),
    )
    await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}")
    try:
        a = Auth(channel, pool, publisher, producer, kafka, signin, core)
        a.master = await a.principal(MASTER)
        yield a
    finally:
        await channel.close()
        await service.stop()
        await pool.close()


@pytest.fixture
async def auth(pg_dsn: str, tmp_path: Path) -> AsyncIterator[Auth]:
    # Kafka is unreachable here on purpose: identity events buffer and nothing blocks.
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:9")
    producer = EventProducer(kafka, client_id="t", spool_dir=tmp_path)
    async with running(pg_dsn, producer, kafka, "identity") as a:
        yield a


@pytest.fixture
async def auth_with_kafka(pg_dsn: str, tmp_path: Path, kafka_bootstrap: str) -> AsyncIterator[Auth]:
    """The auth service publishing to the test Kafka (a topic of its own), as in production."""
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:8]}-")
    topic = kafka.topic("identity")
    producer = EventProducer(kafka, client_id="auth-test", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    try:
        async with running(pg_dsn, producer, kafka, topic) as a:
            yield a
    finally:
        await producer.stop()
