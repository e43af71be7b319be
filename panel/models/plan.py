"""Access plans (*Adicionar plano*): what is sold, for how much, and at which platform."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.platform import Platform, Product
from panel.models.types import LabelledEnum, ScaledDecimal, UTCDateTime, enum_column, utcnow


class PlanType(LabelledEnum):
    """TV/OTT plans are served by an operadora (ITTV); SVA plans by a fornecedor (Skeelo)."""

    tv_ott = "tv_ott", "TV/OTT"
    sva = "sva", "SVA"


class CompositionMode(LabelledEnum):
    percent = "percent", "%"
    value = "value", "R$"


plan_products = Table(
    "plan_products",
    db.metadata,
    Column("plan_id", ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    # RESTRICT: a product a plan sells cannot disappear under it.
    Column("product_id", ForeignKey("products.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Plan(db.Model):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("plan_type IN ('tv_ott', 'sva')", name="plan_type_known"),
        CheckConstraint("contract_months BETWEEN 1 AND 120", name="contract_months_range"),
        CheckConstraint("monthly_value > 0", name="monthly_value_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    plan_type: Mapped[PlanType] = mapped_column(enum_column(PlanType))
    contract_months: Mapped[int]
    # monthly_value: exact, in reais (stored as cents)
    monthly_value: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship()
    products: Mapped[list[Product]] = relationship(secondary=plan_products, order_by="Product.code")
    composition: Mapped[list[PlanComponent]] = relationship(
        back_populates="plan", order_by="PlanComponent.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Plan {self.name}>"


class PlanComponent(db.Model):
    """One line of the fiscal composition: a service kind (SCM, SVA, TV) and its share of the
    monthly value, as a percentage or as a value in reais."""

    __tablename__ = "plan_components"
    __table_args__ = (
        CheckConstraint("mode IN ('percent', 'value')", name="mode_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    service: Mapped[str] = mapped_column(String(8))
    mode: Mapped[CompositionMode] = mapped_column(enum_column(CompositionMode, 8))
    # amount: a percentage (up to 4 decimals) or reais (up to 2), per mode
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal(4))

    plan: Mapped[Plan] = relationship(back_populates="composition")
