"""Platforms (ITTV operadora, Skeelo fornecedor), their products, and the checks run on them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.outbox import OutboxRow, OutboxStatus
from panel.models.types import LabelledEnum, ScaledDecimal, UTCDateTime, enum_column, utcnow


class BillingMode(LabelledEnum):
    """Which subscribers a platform bills in a month (the Licenças ledger)."""

    any_moment = "any_moment", "Ativo em qualquer momento do mês"
    snapshot_day = "snapshot_day", "Foto em um dia do mês"


class Platform(db.Model):
    """A platform account: where its API lives and the token that opens it.

    ``kind`` names the platform's kind (panel.domain.kinds). The token is kept only encrypted
    (``token_ciphertext``, Fernet with ENCRYPTION_KEY) and is read back only by the job that
    calls the platform; pages show ``token_set_at``.
    """

    __tablename__ = "platforms"
    __table_args__ = (
        CheckConstraint("concurrency_limit BETWEEN 1 AND 64", name="concurrency_limit_range"),
        CheckConstraint("billing_mode IN ('any_moment', 'snapshot_day')", name="billing_mode_known"),
        CheckConstraint("snapshot_day IS NULL OR snapshot_day BETWEEN 1 AND 28", name="snapshot_day_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    # code: the operator's short name for the account, unique (e.g. ITTV, SKEELO)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    server_url: Mapped[str] = mapped_column(String(255))
    token_ciphertext: Mapped[str] = mapped_column(Text)
    token_set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # concurrency_limit: calls to this platform running at once, across every worker
    concurrency_limit: Mapped[int] = mapped_column(default=4)
    active: Mapped[bool] = mapped_column(default=True)
    # auto_correct (*corrigir automaticamente*): a reconciliation run sends the platform back to
    # what the contracts say by itself; off, nothing is repaired without a person
    auto_correct: Mapped[bool] = mapped_column(default=False, server_default=false())

    # unit_price: R$ per billable (active) subscriber a month, when the operator set it
    unit_price: Mapped[Decimal | None] = mapped_column(ScaledDecimal(2))
    billing_mode: Mapped[BillingMode] = mapped_column(
        enum_column(BillingMode), default=BillingMode.any_moment, server_default=BillingMode.any_moment.value
    )
    # snapshot_day: the day of the month whose snapshot is billed (billing_mode snapshot_day)
    snapshot_day: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    products: Mapped[list[Product]] = relationship(
        back_populates="platform", order_by="Product.code", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Platform {self.code} ({self.kind})>"


class Product(db.Model):
    """A package of a platform's catalogue (*sigla*). Base packages are what an ITTV partial
    block leaves the customer with."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("platform_id", "code", name="uq_products_platform_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    is_base: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="products")

    def __repr__(self) -> str:
        return f"<Product {self.code}>"


class TaskKind(LabelledEnum):
    test_connection = "test_connection", "Testar conexão"
    sync_products = "sync_products", "Sincronizar produtos"


TaskStatus = OutboxStatus  # (one lifecycle for every outbox row)


class PlatformTask(OutboxRow, db.Model):
    """An operator's *Testar conexão* or *Sincronizar produtos*: an outbox row (see
    panel.models.outbox), run by a job that gets only its id; its result is shown on the
    platform's page."""

    __tablename__ = "platform_tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('test_connection', 'sync_products')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'queued', 'running', 'done', 'failed')", name="status_known"),
        # The relay looks for unfinished rows by status and time.
        Index("ix_platform_tasks_status_next_attempt", "status", "next_attempt_at"),
    )
    job_prefix = "platform-task"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TaskKind] = mapped_column(enum_column(TaskKind, 32))
    # message: the result as the operator reads it (never a token: provider errors are masked)
    message: Mapped[str | None] = mapped_column(Text)
    # details: what a sync changed: {"added": [[code, name]], "renamed": [[code, old, new]], "missing": [code]}
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    platform: Mapped[Platform] = relationship()
