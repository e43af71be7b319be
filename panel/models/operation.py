"""Operations: the requests about subscribers in the outbox (panel.models.outbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.outbox import OutboxRow, OutboxStatus
from panel.models.types import LabelledEnum, enum_column

if TYPE_CHECKING:
    from panel.models.contract import Subscription


class OperationKind(LabelledEnum):
    sync = "sync", "Sincronização"  # make sure the subscriber exists there, in its desired status
    set_status = "set_status", "Bloqueio, desbloqueio ou cancelamento"  # bring the subscriber to its desired status
    update_login = "update_login", "Atualização do login"  # send the client's new login data


OperationStatus = OutboxStatus  # (one lifecycle for every outbox row)


class Operation(OutboxRow, db.Model):
    """A request about one subscriber at its platform (an outbox row: see panel.models.outbox)."""

    __tablename__ = "operations"
    __table_args__ = (
        CheckConstraint("kind IN ('sync', 'set_status', 'update_login')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'queued', 'running', 'done', 'failed')", name="status_known"),
        # The relay looks for unfinished operations by status and time.
        Index("ix_operations_status_next_attempt", "status", "next_attempt_at"),
        # Operações filtered by status, newest first (keyset on id).
        Index("ix_operations_status_id", "status", "id"),
        # The overview's failures of the last 24 h: a range of this index, whatever the table's size.
        Index("ix_operations_status_updated_at", "status", "updated_at"),
    )
    job_prefix = "op"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    kind: Mapped[OperationKind] = mapped_column(enum_column(OperationKind))
    # target_status: the desired status when it was asked (the job converges to the current one)
    target_status: Mapped[str | None] = mapped_column(String(16))
    # details: which data changed (names only), e.g. {"fields": ["email"]}
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    # result: what the platform answered when the operation was done, in the operator's words
    result: Mapped[str | None] = mapped_column(Text)
    # background: asked by the panel in bulk (the régua), not by an operator's click: it waits in
    # a queue of its own, served after the operators' (panel.jobs.dispatch)
    background: Mapped[bool] = mapped_column(default=False)
    # regua_run_id: the régua's run that asked for it (its page lists them)
    regua_run_id: Mapped[int | None] = mapped_column(ForeignKey("regua_runs.id", ondelete="SET NULL"), index=True)

    subscription: Mapped[Subscription] = relationship(back_populates="operations")
