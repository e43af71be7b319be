"""Platforms (ITTV operadora, Skeelo fornecedor), their products, and the checks run on them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.types import PROGRESS_LABELS, UTCDateTime, utcnow


class Platform(db.Model):
    """A platform account: where its API lives and the token that opens it.

    ``kind`` names the adapter (panel.providers.REGISTRY). The token is kept only encrypted
    (``token_ciphertext``, Fernet with ENCRYPTION_KEY) and is read back only by the job that
    calls the platform; pages show ``token_set_at``.
    """

    __tablename__ = "platforms"
    __table_args__ = (
        CheckConstraint("concurrency_limit BETWEEN 1 AND 64", name="concurrency_limit_range"),
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


class TaskKind(str, enum.Enum):
    test_connection = "test_connection"
    sync_products = "sync_products"

    @property
    def label(self) -> str:
        return {TaskKind.test_connection: "Testar conexão", TaskKind.sync_products: "Sincronizar produtos"}[self]


class TaskStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @property
    def label(self) -> str:
        return PROGRESS_LABELS[self.value]

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.done, TaskStatus.failed)


class PlatformTask(db.Model):
    """An operator's *Testar conexão* or *Sincronizar produtos*: recorded here, run by a job
    (which gets only this row's id), its result shown on the platform's page."""

    __tablename__ = "platform_tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('test_connection', 'sync_products')", name="kind_known"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.queued.value)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_by_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # message: the result as the operator reads it (never a token: provider errors are masked)
    message: Mapped[str | None] = mapped_column(Text)
    # details: what a sync changed: {"added": [[code, name]], "renamed": [[code, old, new]], "missing": [code]}
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    platform: Mapped[Platform] = relationship()

    @property
    def kind_enum(self) -> TaskKind:
        return TaskKind(self.kind)

    @property
    def status_enum(self) -> TaskStatus:
        return TaskStatus(self.status)
