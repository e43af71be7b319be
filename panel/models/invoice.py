"""Invoices (*títulos*): one per contract and month. How late one is is computed from its due
date when asked, never stored."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.types import ScaledDecimal, UTCDateTime, utcnow

if TYPE_CHECKING:
    from panel.models.contract import Contract


class Invoice(db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("contract_id", "reference_month", name="uq_invoices_contract_month"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid_amount IS NULL OR paid_amount > 0", name="paid_amount_positive"),
        # The régua looks for unpaid invoices by due date.
        Index("ix_invoices_unpaid_due", "paid_on", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    reference_month: Mapped[date]  # the first day of the month billed
    due_date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    # -- the payment (*Baixar título*); empty while unpaid --
    paid_on: Mapped[date | None]
    paid_amount: Mapped[Decimal | None] = mapped_column(ScaledDecimal(2))
    paid_by_name: Mapped[str | None] = mapped_column(String(120))
    paid_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="invoices")

    @property
    def paid(self) -> bool:
        return self.paid_on is not None

    def days_overdue(self, today: date) -> int:
        """Days past the due date while unpaid; 0 once paid or not yet due."""
        if self.paid or today <= self.due_date:
            return 0
        return (today - self.due_date).days
