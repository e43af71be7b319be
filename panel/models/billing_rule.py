"""Billing rules (*Réguas de Configuração*): what happens to a contract whose bills are overdue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.platform import Platform
from panel.models.types import UTCDateTime, utcnow


class RuleType(str, enum.Enum):
    connection_maintenance = "connection_maintenance"

    @property
    def label(self) -> str:
        return "Manutenção de conexão"


class RuleAction(str, enum.Enum):
    """The seeds' *Ação a ser executada*. Each acts on the subscriptions of one plan type."""

    tv_block = "tv_block"
    tv_partial_block = "tv_partial_block"
    sva_block = "sva_block"

    @property
    def label(self) -> str:
        return {
            RuleAction.tv_block: "Bloqueio de TV",
            RuleAction.tv_partial_block: "Bloqueio parcial de TV",
            RuleAction.sva_block: "Bloqueio SVA",
        }[self]

    @property
    def plan_type(self) -> str:
        return "sva" if self is RuleAction.sva_block else "tv_ott"

    @property
    def access_status(self) -> str:
        """The panel.providers.AccessStatus value the rule asks for."""
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
    rule_type: Mapped[str] = mapped_column(String(32), default=RuleType.connection_maintenance.value)
    days_overdue: Mapped[int]
    action: Mapped[str] = mapped_column(String(32))
    # platform_id: empty = every platform the action applies to
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"), index=True)
    unblock_on_payment: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform | None] = relationship()

    @property
    def type_enum(self) -> RuleType:
        return RuleType(self.rule_type)

    @property
    def action_enum(self) -> RuleAction:
        return RuleAction(self.action)

    @property
    def title(self) -> str:
        """How lists and histories name the rule."""
        return self.description or f"{self.action_enum.label} após {self.days_overdue} dias em atraso"
