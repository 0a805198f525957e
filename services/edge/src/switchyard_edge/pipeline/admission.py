"""What a request holds while it runs, and the one place that gives it all back.

A request is admitted three times: under its key's rate limits (a ticket: a slot in flight and
its tokens counted), by the router (a lease on a deployment's rpm/tpm/parallel limits: the plan's
own, until an attempt uses it, then each attempt's, until its outcome report returns it) and
against its budget (a hold on the edge's budget lease: its worst-case cost). ``Admission`` is the
``async with`` scope of a request: however the scope ends (an answer, an error, a cancellation),
whatever is still held goes back, the rate-limit ticket counting the tokens the request used and
the budget hold what it cost. A GatewayError leaving the scope gets the request's headers (call
id, attempts, model group), so every error answer carries them.

A streamed answer outlives the scope that started it: ``hand_over()`` passes everything still held
to the stream, which calls ``close()`` when it ends."""

from __future__ import annotations

from types import TracebackType

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2
from switchyard_edge.clients.budget_leases import BudgetLeases, Hold
from switchyard_edge.clients.customers import Customers
from switchyard_edge.clients.key_limits import KeyLimiter, Ticket
from switchyard_edge.clients.router import RouterClient
from switchyard_edge.domain import estimate
from switchyard_edge.domain.call import Call
from switchyard_edge.domain.tenancy import rate_scopes
from switchyard_edge.errors import GatewayError
from switchyard_llm.budget_scopes import model_limit
from switchyard_llm.errors import make_error


class Admission:
    __slots__ = (
        "_closed",
        "_customers",
        "_default_output",
        "_handed_over",
        "_key_limits",
        "_leases",
        "_router",
        "call",
        "hold",
        "lease",
        "plan_lease",
        "ticket",
    )

    def __init__(
        self,
        call: Call,
        key_limits: KeyLimiter,
        leases: BudgetLeases,
        router: RouterClient,
        default_output: int,
        customers: Customers,
    ) -> None:
        self.call = call
        self._key_limits = key_limits
        self._customers = customers
        self._leases = leases
        self._router = router
        self._default_output = default_output
        self.ticket: Ticket | None = None
        self.hold: Hold | None = None
        # The plan's admission of its first deployment, until an attempt uses it.
        self.plan_lease: router_pb2.Lease | None = None
        # The admission of the attempt running now, until its outcome is reported.
        self.lease: router_pb2.Lease | None = None
        self._handed_over = False
        self._closed = False

    async def __aenter__(self) -> Admission:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, GatewayError):
            exc.headers.update(self.call.headers())
        if exc is not None or not self._handed_over:
            self.close()

    # --- admission ------------------------------------------------------------------------
    async def admit(self, request: estimate.Request) -> router_pb2.PlanResponse:
        """Admit the request under the rate limits of its key, team, user, organisation, team
        membership and end user (429 naming the one over its limit; 403 for a blocked end user),
        get its plan and hold its worst-case cost of the budget on every scope with a spend limit
        (403 when a deployment it may reach has no price, 429 naming the scope whose budget is
        spent)."""
        call = self.call
        p = call.principal
        customer = None
        if call.end_user:
            customer = await self._customers.get(p.account_id, call.end_user)
            if customer is not None and customer.settings.blocked:
                raise GatewayError(
                    make_error(
                        ErrorKind.ERROR_KIND_PERMISSION_DENIED,
                        f"End user '{call.end_user}' is blocked. Contact your administrator.",
                        param="user",
                    )
                )
        limited = rate_scopes(p, call.model, call.end_user, customer)
        if limited is not None:  # the common case has none: no Redis call, nothing to release
            self.ticket = await self._key_limits.admit(limited, call.input_tokens, call.remaining())
        plan = await self._router.plan(call)
        call.model_group = plan.model_group
        call.max_fallbacks = plan.max_fallbacks
        if plan.lease.lease_id:
            self.plan_lease = plan.lease
        # An end user with a spend limit of its own is budgeted whatever its key is, and so is a
        # key with a budget for the model group (model_max_budget).
        end_user_limit = customer.limit if customer is not None and customer.limit.max_budget else None
        per_model = model_limit(p, plan.model_group)
        if p.has_budget or end_user_limit is not None or per_model is not None:
            deps = [d for g in plan.groups for d in g.deployments]
            try:
                amount = estimate.worst_case_usd(call.input_tokens, deps, request, self._default_output)
            except estimate.Unpriced as exc:
                raise GatewayError(make_error(ErrorKind.ERROR_KIND_PERMISSION_DENIED, str(exc))) from None
            self.hold = await self._leases.admit(
                p,
                amount,
                call.remaining(),
                end_user=call.end_user,
                end_user_limit=end_user_limit,
                model=plan.model_group,
                model_limit=per_model,
            )
            call.budgeted = True
        return plan

    @property
    def reservation_id(self) -> str:
        """The budget lease the request's costs settle against ("" without a budget)."""
        return self.hold.lease.lease_id if self.hold is not None else ""

    # --- router admissions ------------------------------------------------------------------
    def use_plan_lease(self, deployment_id: str) -> bool:
        """Let the attempt on ``deployment_id`` use the plan's admission, if it is for it."""
        lease = self.plan_lease
        if lease is None or lease.deployment_id != deployment_id:
            return False
        self.plan_lease, self.lease = None, lease
        return True

    def release_plan_lease(self) -> None:
        """The attempts are over: the plan's admission goes back if no attempt used it."""
        if self.plan_lease is not None:
            lease, self.plan_lease = self.plan_lease, None
            self._router.release(lease, self.call.model_group, stream=self.call.stream)

    def take_lease(self) -> router_pb2.Lease | None:
        """The admission of the attempt being reported (its report gives it back)."""
        lease, self.lease = self.lease, None
        return lease

    # --- the end ----------------------------------------------------------------------------
    def hand_over(self) -> None:
        """The request goes on after its scope (a stream): its stream calls ``close()``."""
        self._handed_over = True

    def close(self) -> None:
        """The request is over: give back whatever it still holds (once)."""
        if self._closed:
            return
        self._closed = True
        self.release_plan_lease()
        lease = self.take_lease()
        if lease is not None:
            # An attempt that ended without its outcome reported (cancelled mid-call).
            self._router.release(lease, self.call.model_group, stream=self.call.stream)
        if self.hold is not None:
            self._leases.finish(self.hold, self.call.cost_usd)
        self._key_limits.release(self.ticket, self.call.tokens)
