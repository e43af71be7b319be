"""Operations: the outbox of requests to the platforms. The database is the truth; a job only
carries an operation's id."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.types import PROGRESS_LABELS, UTCDateTime, utcnow

if TYPE_CHECKING:
    from panel.models.contract import Subscription


class OperationKind(str, enum.Enum):
    sync = "sync"  # make sure the subscriber exists there, in its desired status
    set_status = "set_status"  # bring the subscriber to its desired status
    update_login = "update_login"  # send the client's new login data (ITTV: e-mail, CPF/CNPJ)

    @property
    def label(self) -> str:
        return {OperationKind.sync: "Sincronizar", OperationKind.set_status: "Alterar situação",
                OperationKind.update_login: "Atualizar dados de login"}[self]


class OperationStatus(str, enum.Enum):
    pending = "pending"  # recorded, not yet handed to a worker
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @property
    def label(self) -> str:
        return PROGRESS_LABELS[self.value]

    @property
    def finished(self) -> bool:
        return self in (OperationStatus.done, OperationStatus.failed)


class Operation(db.Model):
    __tablename__ = "operations"
    __table_args__ = (
        CheckConstraint("kind IN ('sync', 'set_status', 'update_login')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'queued', 'running', 'done', 'failed')", name="status_known"),
        # The relay looks for unfinished operations by status and time.
        Index("ix_operations_status_next_attempt", "status", "next_attempt_at"),
        # Operações filtered by status, newest first (keyset on id).
        Index("ix_operations_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # target_status: the desired status when it was asked (the job converges to the current one)
    target_status: Mapped[str | None] = mapped_column(String(16))
    # details: which data changed (names only), e.g. {"fields": ["email"]}
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OperationStatus.pending.value)
    attempts: Mapped[int] = mapped_column(default=0)  # times a worker took it up
    # deliveries: times it was handed to the queue again (a retry, a relay re-send); names the
    # job that carries it now (see panel.domain.operations.job_id)
    deliveries: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # result: what the platform answered when the operation was done, in the operator's words
    result: Mapped[str | None] = mapped_column(Text)
    # lease_until: while running, when its worker is taken as dead (the relay then re-queues it)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_by_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscription: Mapped[Subscription] = relationship(back_populates="operations")

    @property
    def kind_enum(self) -> OperationKind:
        return OperationKind(self.kind)

    @property
    def status_enum(self) -> OperationStatus:
        return OperationStatus(self.status)
