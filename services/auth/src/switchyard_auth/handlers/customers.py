"""CustomerService: an account's end users, with limits of their own."""

from __future__ import annotations

from typing import Any

import grpc

from switchyard.auth.v1 import customers_pb2, customers_pb2_grpc
from switchyard_auth.clients.rows import CUSTOMERS
from switchyard_auth.domain.authz import Op
from switchyard_auth.domain.settings import Invalid
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import Core, page_of, rpc
from switchyard_auth.handlers.entities import Entities, Noun
from switchyard_auth.handlers.events import A, E

NOUN = Noun(
    "customer",
    CUSTOMERS,
    "user_id",
    E.IDENTITY_ENTITY_CUSTOMER,
    Op.CUSTOMER_CREATE,
    Op.CUSTOMER_READ,
    Op.CUSTOMER_UPDATE,
    Op.CUSTOMER_DELETE,
)


class CustomerServicer(customers_pb2_grpc.CustomerServiceServicer):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.e = Entities(core, NOUN, views.customers)

    @rpc(customers_pb2.CreateCustomerResponse)
    async def CreateCustomer(
        self, request: customers_pb2.CreateCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.CreateCustomerResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        Core.require(caller, Op.CUSTOMER_CREATE)
        if not request.user_id:
            raise Invalid("'user_id' is required", "user_id")
        async with self.core.repo.write(tenant) as tx:
            row = await self.e.insert(tx, caller, request.user_id, request.settings)
            customer = await self.e.one(tx, row)
        self.core.events.publish([self.e.event(A.IDENTITY_ACTION_CREATED, customer)])
        return customers_pb2.CreateCustomerResponse(customer=customer)

    @rpc(customers_pb2.GetCustomerResponse)
    async def GetCustomer(
        self, request: customers_pb2.GetCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.GetCustomerResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        async with self.core.repo.read(scope) as tx:
            row = await self.e.load(tx, caller, request.user_id, Op.CUSTOMER_READ)
            return customers_pb2.GetCustomerResponse(customer=await self.e.one(tx, row))

    @rpc(customers_pb2.ListCustomersResponse)
    async def ListCustomers(
        self, request: customers_pb2.ListCustomersRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.ListCustomersResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        Core.require(caller, Op.CUSTOMER_READ)
        async with self.core.repo.read(scope) as tx:
            rows, total = await tx.list_simple(
                CUSTOMERS, page_of(request.limit, request.offset), equals={"budget_id": request.budget_id}
            )
            return customers_pb2.ListCustomersResponse(customers=await views.customers(tx, rows), total_count=total)

    @rpc(customers_pb2.UpdateCustomerResponse)
    async def UpdateCustomer(
        self, request: customers_pb2.UpdateCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.UpdateCustomerResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            row, fields = await self.e.update(
                tx, caller, request.user_id, request.settings, list(request.update_mask.paths)
            )
            customer = await self.e.one(tx, row)
        self.core.events.publish([self.e.changed_event(customer, fields)])
        return customers_pb2.UpdateCustomerResponse(customer=customer)

    @rpc(customers_pb2.DeleteCustomersResponse)
    async def DeleteCustomers(
        self, request: customers_pb2.DeleteCustomersRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.DeleteCustomersResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            await self.e.load_all(tx, caller, list(request.user_ids), Op.CUSTOMER_DELETE)
            rows = await self.e.delete_rows(tx, list(request.user_ids))
            customers = await views.customers(tx, rows)
        self.core.events.publish([self.e.event(A.IDENTITY_ACTION_DELETED, c) for c in customers])
        return customers_pb2.DeleteCustomersResponse(deleted_user_ids=[c.user_id for c in customers])

    async def _block(self, request: Any, blocked: bool) -> list[customers_pb2.Customer]:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            rows = []
            for found in await self.e.load_all(tx, caller, list(request.user_ids), Op.CUSTOMER_BLOCK):
                row = await tx.update(CUSTOMERS, (found["user_id"],), {"blocked": blocked})
                assert row is not None
                rows.append(row)
            customers = await views.customers(tx, rows)
        action = A.IDENTITY_ACTION_BLOCKED if blocked else A.IDENTITY_ACTION_UPDATED
        self.core.events.publish([self.e.event(action, c) for c in customers])
        return customers

    @rpc(customers_pb2.BlockCustomersResponse)
    async def BlockCustomers(
        self, request: customers_pb2.BlockCustomersRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.BlockCustomersResponse:
        return customers_pb2.BlockCustomersResponse(customers=await self._block(request, True))

    @rpc(customers_pb2.UnblockCustomersResponse)
    async def UnblockCustomers(
        self, request: customers_pb2.UnblockCustomersRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.UnblockCustomersResponse:
        return customers_pb2.UnblockCustomersResponse(customers=await self._block(request, False))
