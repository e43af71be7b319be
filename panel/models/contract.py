"""Contracts, their subscribers at each platform (assinantes) and the contract history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from panel.extensions import db
from panel.models.client import Client
from panel.models.operation import Operation
from panel.models.plan import Plan, PlanType
from panel.models.platform import Platform
from panel.models.types import LabelledEnum, ScaledDecimal, UTCDateTime, enum_column, utcnow
from panel.models.user import User

if TYPE_CHECKING:
    from panel.models.invoice import Invoice


class ContractStatus(LabelledEnum):
    active = "active", "Ativo"
    suspended = "suspended", "Suspenso"
    cancelled = "cancelled", "Cancelado"  # final: a new contract is needed


class Contract(db.Model):
    """A client's contract for a plan. The plan's terms are copied when the contract is made, so
    editing the plan later never changes what this client bought."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'cancelled')", name="status_known"),
        CheckConstraint("due_day BETWEEN 1 AND 31", name="due_day_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # the contract number operators quote
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    # plan_id: where the terms came from; a plan with contracts can only be deactivated
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ContractStatus] = mapped_column(enum_column(ContractStatus), default=ContractStatus.active)
    start_date: Mapped[date]
    due_day: Mapped[int]  # day of the month the invoices fall due (the month's last day when shorter)
    # -- the plan's terms as they were when the contract was made --
    plan_name: Mapped[str] = mapped_column(String(120))
    plan_type: Mapped[PlanType] = mapped_column(enum_column(PlanType))
    contract_months: Mapped[int]
    monthly_value: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    # composition: [{"service", "mode", "amount"}] with amounts as exact decimal strings
    composition: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    product_codes: Mapped[list[str]] = mapped_column(JSON)
    base_codes: Mapped[list[str]] = mapped_column(JSON)  # what an ITTV partial block leaves
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # exempt_until: the régua does not block the contract up to this day (the operators' date)
    exempt_until: Mapped[date | None]
    exempt_reason: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship(back_populates="contracts")
    plan: Mapped[Plan] = relationship()
    platform: Mapped[Platform] = relationship()
    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="contract", order_by="Subscription.id")
    invoices: Mapped[list[Invoice]] = relationship(back_populates="contract", order_by="Invoice.reference_month.desc()")
    events: Mapped[list[ContractEvent]] = relationship(back_populates="contract", order_by="ContractEvent.id.desc()")

    @property
    def subscription(self) -> Subscription | None:
        """The subscriber at the plan's platform, once the contract was synced."""
        return next((s for s in self.subscriptions if s.platform_id == self.platform_id), None)

    def __repr__(self) -> str:
        return f"<Contract {self.id} {self.status}>"


class ListTab(LabelledEnum):
    """The Integradores tab a subscriber is listed in, from its contract and desired access."""

    active = "active", "Assinantes ativos"
    blocked = "blocked", "Assinantes bloqueados"  # partial or total, contract still active
    inactive = "inactive", "Assinantes cancelados ou suspensos"

    @classmethod
    def of(cls, contract_status: str, desired_status: str) -> ListTab:
        if contract_status != ContractStatus.active.value:
            return cls.inactive
        return cls.active if desired_status == "active" else cls.blocked


class BlockOrigin(LabelledEnum):
    operator = "operator", "operador"
    regua = "regua", "Régua"


class Subscription(db.Model):
    """The contract's subscriber (assinante) at one platform: the access status the panel wants
    there and the last one the platform confirmed. Created by the first *Sincronizar*."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("contract_id", "platform_id", name="uq_subscriptions_contract_platform"),
        # Platforms that allow one synced contract per client (ITTV) fill exclusive_client_id
        # while the contract is not cancelled: the database refuses a second one, even in a race.
        UniqueConstraint("platform_id", "exclusive_client_id", name="uq_subscriptions_exclusive_client"),
        CheckConstraint(
            "desired_status IN ('active', 'partial_block', 'blocked', 'cancelled')", name="desired_status_known"
        ),
        CheckConstraint("list_tab IN ('active', 'blocked', 'inactive')", name="list_tab_known"),
        # The Integradores lists: one platform's tab, newest first, paged by keyset on id.
        Index("ix_subscriptions_platform_tab_id", "platform_id", "list_tab", "id"),
        # Reconciliation finds the platform's accounts among ours by the platform's id.
        Index("ix_subscriptions_platform_external_id", "platform_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    exclusive_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    # external_ref: our stable reference for this subscriber at the platform (never reused)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    # external_id: the platform's own id, once it answered the create
    external_id: Mapped[str | None] = mapped_column(String(64))
    # desired_status: the access the operator (or the régua) asked for
    desired_status: Mapped[str] = mapped_column(String(16))
    # remote_status: the last access status the platform confirmed; empty until it did
    remote_status: Mapped[str | None] = mapped_column(String(16))
    # list_tab: kept by set_state() with the two statuses it derives from (the lists filter on it
    # with an index, without joining contracts)
    list_tab: Mapped[ListTab] = mapped_column(enum_column(ListTab), default=ListTab.active)
    last_error: Mapped[str | None] = mapped_column(Text)
    # blocked_by: who made the block the subscriber is under (empty while active): an operator
    # (or a suspension), or the régua — whose rule and run are kept, and only whose block a
    # payment lifts
    blocked_by: Mapped[BlockOrigin | None] = mapped_column(enum_column(BlockOrigin))
    block_rule_id: Mapped[int | None] = mapped_column(ForeignKey("billing_rules.id", ondelete="SET NULL"))
    block_run_id: Mapped[int | None] = mapped_column(ForeignKey("regua_runs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # seen_in_run_id: the last reconciliation run that found this subscriber at its platform
    # (a run marks them batch by batch, so those it did not find are one query, in any size)
    seen_in_run_id: Mapped[int | None]

    contract: Mapped[Contract] = relationship(back_populates="subscriptions")
    platform: Mapped[Platform] = relationship()
    operations: Mapped[list[Operation]] = relationship(back_populates="subscription", order_by="Operation.id.desc()")

    def set_state(
        self,
        contract_status: str,
        desired_status: str,
        *,
        origin: BlockOrigin | None = None,
        rule_id: int | None = None,
        run_id: int | None = None,
    ) -> None:
        """The one way the desired access changes, keeping the list tab in step and the block's
        origin: an operator's (the default), or a rule of the régua (``rule_id``, ``run_id``)."""
        self.desired_status = desired_status
        self.list_tab = ListTab.of(contract_status, desired_status)
        if desired_status == "active":
            self.blocked_by, self.block_rule_id, self.block_run_id = None, None, None
        else:
            self.blocked_by = origin or BlockOrigin.operator
            self.block_rule_id, self.block_run_id = rule_id, run_id

    @property
    def in_step(self) -> bool:
        """The platform confirmed what the panel wants."""
        return self.remote_status == self.desired_status

    @property
    def last_operation(self) -> Operation | None:
        """The latest request for this subscriber (one row read, not its whole list)."""
        if "operations" in self.__dict__:  # already loaded: no query
            return self.operations[0] if self.operations else None
        return object_session(self).scalar(
            select(Operation).where(Operation.subscription_id == self.id).order_by(Operation.id.desc()).limit(1)
        )


class ContractEvent(db.Model):
    """One line of the *Histórico do contrato*: who (operator, *Régua* or *Sistema*), when, what
    was asked and what the platform answered. Lines are only ever added."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # actor_id: the operator; empty for the panel's own actors (actor_name says which)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))  # a ContractAction or another event's code
    asked: Mapped[str] = mapped_column(Text)  # what was asked, in the operator's words
    answer: Mapped[str | None] = mapped_column(Text)  # the platform's answer, when there is one
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"), index=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    contract: Mapped[Contract] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    operation: Mapped[Operation | None] = relationship()


@event.listens_for(ContractEvent, "before_update")
@event.listens_for(ContractEvent, "before_delete")
def _history_is_append_only(mapper, connection, target: ContractEvent) -> None:
    raise ValueError("the contract history is append-only")
