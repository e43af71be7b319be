"""Billing rules (*Réguas de Configuração*): what happens to a contract whose bills are overdue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.plan import PlanType
from panel.models.platform import Platform
from panel.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow


class RuleType(LabelledEnum):
    connection_maintenance = "connection_maintenance", "Manutenção de conexão"


class RuleAction(LabelledEnum):
    """The seeds' *Ação a ser executada*. Each acts on the subscriptions of one plan type."""

    tv_block = "tv_block", "Bloqueio de TV"
    tv_partial_block = "tv_partial_block", "Bloqueio parcial de TV"
    sva_block = "sva_block", "Bloqueio SVA"

    @property
    def plan_type(self) -> PlanType:
        return PlanType.sva if self is RuleAction.sva_block else PlanType.tv_ott

    @property
    def access_status(self) -> str:
        """The access status (panel.domain.vocabulary.AccessStatus) the rule asks for."""
        return "partial_block" if self is RuleAction.tv_partial_block else "blocked"


class BillingRule(db.Model):
    __tablename__ = "billing_rules"
    __table_args__ = (
        CheckConstraint("rule_type IN ('connection_maintenance')", name="rule_type_known"),
        CheckConstraint("action IN ('tv_block', 'tv_partial_block', 'sva_block')", name="action_known"),
        CheckConstraint("days_overdue BETWEEN 1 AND 365", name="days_overdue_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # description: as the operator typed it; empty means "describe it by its action and days"
    description: Mapped[str] = mapped_column(String(120), default="")
    rule_type: Mapped[RuleType] = mapped_column(enum_column(RuleType, 32), default=RuleType.connection_maintenance)
    days_overdue: Mapped[int]
    action: Mapped[RuleAction] = mapped_column(enum_column(RuleAction, 32))
    # platform_id: empty = every platform the action applies to
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"), index=True)
    unblock_on_payment: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform | None] = relationship()

    @property
    def title(self) -> str:
        """How lists and histories name the rule."""
        return self.description or f"{self.action.label} após {self.days_overdue} dias em atraso"
