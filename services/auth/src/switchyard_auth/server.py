"""Wires the auth service: migrations, pool, Kafka producer, gRPC services."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import grpc

from switchyard.auth.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    budget_objects_pb2,
    budget_objects_pb2_grpc,
    customers_pb2,
    customers_pb2_grpc,
    keys_pb2,
    keys_pb2_grpc,
    organizations_pb2,
    organizations_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
    teams_pb2,
    teams_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
)
from switchyard_auth.clients.oidc import OidcProvider
from switchyard_auth.clients.repository import Repository
from switchyard_auth.config import Settings
from switchyard_auth.domain.sessions import KeyRing
from switchyard_auth.domain.signin import parse_emails
from switchyard_auth.handlers.accounts import AccountServicer
from switchyard_auth.handlers.auth import AuthServicer
from switchyard_auth.handlers.budgets import BudgetServicer
from switchyard_auth.handlers.common import Core
from switchyard_auth.handlers.customers import CustomerServicer
from switchyard_auth.handlers.events import Publisher
from switchyard_auth.handlers.keys import KeyOps, KeyServicer
from switchyard_auth.handlers.organizations import OrganizationServicer
from switchyard_auth.handlers.signin import SessionServicer, SignIn, SignInConfig
from switchyard_auth.handlers.teams import TeamServicer
from switchyard_auth.handlers.users import UserServicer
from switchyard_common.db import create_pool, migrate
from switchyard_common.grpc_server import GrpcService, run_until_signalled
from switchyard_common.kafka import EventProducer
from switchyard_common.tracing import traced_servicer

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
# Every service this process serves, for the health service: AuthService first (the probes ask
# for it), then one per noun of the management plane.
SERVICE_NAMES = [
    SERVICE_NAME,
    *(
        m.DESCRIPTOR.services_by_name[name].full_name
        for m, name in (
            (accounts_pb2, "AccountService"),
            (organizations_pb2, "OrganizationService"),
            (teams_pb2, "TeamService"),
            (users_pb2, "UserService"),
            (customers_pb2, "CustomerService"),
            (budget_objects_pb2, "BudgetObjectService"),
            (keys_pb2, "KeyService"),
            (sessions_pb2, "SessionService"),
        )
    ),
]
SCHEMA = "auth"
MIGRATIONS = Path(__file__).parent / "migrations"


async def run_migrations(settings: Settings) -> None:
    await migrate(settings.database_url.get_secret_value(), schema=SCHEMA, migrations_dir=MIGRATIONS)


def build_signin(settings: Settings, core: Core) -> tuple[SignIn, OidcProvider | None]:
    """Sign-in as the settings configure it: session keys (none: no sessions) and the identity
    provider (none: no sign-in and no identity-provider tokens)."""
    pem = settings.session_signing_keys.get_secret_value()
    try:
        ring = KeyRing(pem, issuer=settings.session_issuer, audience=settings.session_audience) if pem.strip() else None
    except ValueError as exc:
        raise SystemExit(f"auth: SESSION_SIGNING_KEYS: {exc}") from None
    provider = None
    if settings.oidc_issuer_url:
        if not settings.oidc_client_id:
            raise SystemExit("auth: OIDC_ISSUER_URL is set but OIDC_CLIENT_ID is not")
        introspection = settings.oidc_introspection_client_id
        provider = OidcProvider(
            settings.oidc_issuer_url,
            settings.oidc_client_id,
            settings.oidc_client_secret.get_secret_value(),
            timeout=settings.oidc_timeout_seconds,
            introspection_client=(introspection, settings.oidc_introspection_client_secret.get_secret_value())
            if introspection
            else None,
        )
    audiences = [a.strip() for a in settings.oidc_audiences.split(",") if a.strip()] or [settings.oidc_client_id]
    config = SignInConfig(
        session_ttl=settings.session_ttl_seconds,
        scopes=settings.oidc_scopes,
        audiences=audiences,
        org_claim=settings.oidc_org_claim,
        roles_claim=settings.oidc_roles_claim,
        introspection_cache=settings.oidc_introspection_cache_seconds,
        super_admin_emails=parse_emails(settings.super_admin_emails),
        actions_signing_key=settings.oidc_actions_signing_key.get_secret_value(),
    )
    return SignIn(core, config, ring, provider), provider


def register_all(server: grpc.aio.Server, core: Core, signin: SignIn, *, master_key: str, trace: bool = True) -> None:
    """Add every servicer of the auth service to ``server``."""
    ops = KeyOps(core)

    def wrap(servicer: Any) -> Any:
        return traced_servicer(servicer) if trace else servicer

    auth_pb2_grpc.add_AuthServiceServicer_to_server(
        wrap(AuthServicer(core, ops, signin, master_key=master_key)), server
    )
    sessions_pb2_grpc.add_SessionServiceServicer_to_server(wrap(SessionServicer(signin)), server)
    keys_pb2_grpc.add_KeyServiceServicer_to_server(wrap(KeyServicer(core, ops)), server)
    accounts_pb2_grpc.add_AccountServiceServicer_to_server(wrap(AccountServicer(core)), server)
    organizations_pb2_grpc.add_OrganizationServiceServicer_to_server(wrap(OrganizationServicer(core)), server)
    teams_pb2_grpc.add_TeamServiceServicer_to_server(wrap(TeamServicer(core)), server)
    users_pb2_grpc.add_UserServiceServicer_to_server(wrap(UserServicer(core, ops)), server)
    customers_pb2_grpc.add_CustomerServiceServicer_to_server(wrap(CustomerServicer(core)), server)
    budget_objects_pb2_grpc.add_BudgetObjectServiceServicer_to_server(wrap(BudgetServicer(core)), server)


async def serve(settings: Settings) -> None:
    master = settings.master_key.get_secret_value()
    if not master.startswith("sk-"):
        raise SystemExit("auth: MASTER_KEY must start with 'sk-'")
    if settings.migrate_on_start:
        await run_migrations(settings)
    dsn = settings.database_url.get_secret_value()
    pool = await create_pool(dsn, schema=SCHEMA, max_size=settings.database_pool_max_size)
    repo = Repository(pool)
    await repo.ensure_account(settings.default_account_id)
    kafka = settings.kafka()
    topic = kafka.topic("identity")
    producer = EventProducer(
        kafka,
        client_id="auth",
        topics=[topic],
        spool_dir=Path(settings.event_spool_dir) / "auth",
        spool_instance=socket.gethostname(),
    )
    core = Core(
        repo=repo,
        events=Publisher(producer, topic),
        default_account=settings.default_account_id,
        cache_ttl=settings.principal_cache_ttl_seconds,
    )
    signin, provider = build_signin(settings, core)
    service = GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: register_all(server, core, signin, master_key=master),
        service_names=SERVICE_NAMES,
        grace_seconds=settings.shutdown_grace_seconds,
        tls=settings.grpc_tls(),
        health_port=settings.grpc_health_port,
    )
    on_stop = [producer.stop, pool.close, *([provider.close] if provider is not None else [])]
    await run_until_signalled(service, on_start=[producer.start], on_stop=on_stop)
