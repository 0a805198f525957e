"""Long-lived gRPC stubs of the edge's peers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

from switchyard.auth.v1 import auth_pb2_grpc, customers_pb2_grpc, sessions_pb2_grpc
from switchyard.budget.v1 import budget_pb2_grpc
from switchyard.guardrail.v1 import guardrail_pb2_grpc
from switchyard.provider.v1 import provider_pb2_grpc
from switchyard.router.v1 import router_pb2_grpc
from switchyard_common.grpc_client import channel
from switchyard_common.tracing import traced_stub
from switchyard_edge.clients.adapter_sessions import AdapterSessions
from switchyard_edge.config import Settings

if TYPE_CHECKING:
    from switchyard.auth.v1.auth_pb2_grpc import AuthServiceAsyncStub
    from switchyard.auth.v1.customers_pb2_grpc import CustomerServiceAsyncStub
    from switchyard.auth.v1.sessions_pb2_grpc import SessionServiceAsyncStub
    from switchyard.budget.v1.budget_pb2_grpc import BudgetServiceAsyncStub
    from switchyard.guardrail.v1.guardrail_pb2_grpc import GuardrailServiceAsyncStub
    from switchyard.provider.v1.provider_pb2_grpc import ProviderServiceAsyncStub
    from switchyard.router.v1.router_pb2_grpc import RouterServiceAsyncStub


@dataclass
class Peers:
    auth: AuthServiceAsyncStub
    sessions: SessionServiceAsyncStub
    # End users' limits and blocked flags (the edge's customer cache).
    customers: CustomerServiceAsyncStub
    budget: BudgetServiceAsyncStub
    guardrail: GuardrailServiceAsyncStub
    router: RouterServiceAsyncStub
    provider: ProviderServiceAsyncStub
    # Provider calls on the hot path go through sessions (one stream, many calls).
    adapter: AdapterSessions
    # The auth service's channel, shared by the stubs of its management services (clients/identity.py).
    auth_channel: grpc.aio.Channel
    channels: list[grpc.aio.Channel]

    @classmethod
    def connect(cls, s: Settings) -> Peers:
        chans = {
            name: channel(addr, s.grpc_tls())
            for name, addr in (
                ("auth", s.auth_addr),
                ("budget", s.copilot_budget_addr),
                ("guardrail", s.guardrail_addr),
                ("router", s.router_addr),
                ("provider", s.provider_adapter_addr),
            )
        }
        return cls(
            auth=traced_stub(auth_pb2_grpc.AuthServiceStub(chans["auth"])),
            sessions=traced_stub(sessions_pb2_grpc.SessionServiceStub(chans["auth"])),
            customers=traced_stub(customers_pb2_grpc.CustomerServiceStub(chans["auth"])),
            budget=traced_stub(budget_pb2_grpc.BudgetServiceStub(chans["budget"])),
            guardrail=traced_stub(guardrail_pb2_grpc.GuardrailServiceStub(chans["guardrail"])),
            router=traced_stub(router_pb2_grpc.RouterServiceStub(chans["router"])),
            provider=traced_stub(provider_pb2_grpc.ProviderServiceStub(chans["provider"])),
            adapter=AdapterSessions(provider_pb2_grpc.ProviderServiceStub(chans["provider"])),
            auth_channel=chans["auth"],
            channels=list(chans.values()),
        )

    async def close(self) -> None:
        await self.adapter.close()
        for ch in self.channels:
            await ch.close()
