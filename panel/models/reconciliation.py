"""Reconciliation: what a platform really holds, compared with our subscribers. A run walks the
platform's list once (an outbox row a job carries out) and records each difference it found; an
operator then corrects, accepts or links each one (who, when, why are kept on the row)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.contract import Subscription
from panel.models.outbox import OutboxRow
from panel.models.platform import Platform
from panel.models.types import LabelledEnum, UTCDateTime, enum_column


class ReconciliationTrigger(LabelledEnum):
    cron = "cron", "agendada"
    admin = "admin", "manual"
    cli = "cli", "pela linha de comando"


class DifferenceKind(LabelledEnum):
    """How the platform and the panel disagree about one subscriber."""

    active_there = "active_there", "Ativo lá, bloqueado/cancelado aqui"
    blocked_there = "blocked_there", "Bloqueado lá, ativo aqui"
    packages = "packages", "Pacotes diferentes"
    unknown = "unknown", "Desconhecido"  # at the platform, not ours
    missing_there = "missing_there", "Ausente lá"  # ours, synced, missing there


class Resolution(LabelledEnum):
    corrected = "corrected", "corrigido"  # the platform was sent back to what the contract says
    accepted = "accepted", "aceito"  # the platform's state became ours (with a reason)
    linked = "linked", "vinculado"  # an unknown account was tied to a contract


class ReconciliationRun(OutboxRow, db.Model):
    __tablename__ = "reconciliation_runs"
    __table_args__ = (
        Index("ix_reconciliation_runs_platform_id_id", "platform_id", "id"),
        Index("ix_reconciliation_runs_status_next_attempt", "status", "next_attempt_at"),
    )
    job_prefix = "reconciliation-run"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    trigger: Mapped[ReconciliationTrigger] = mapped_column(enum_column(ReconciliationTrigger))
    # progress: subscribers compared so far, of about how many (our synced ones, until the
    # platform's list has been read to its end)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    # platform_count: subscribers the platform listed (empty until the run finished)
    platform_count: Mapped[int | None]
    # counts: differences found per kind, {"active_there": 2, ...}
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)  # why the run failed, for the page

    platform: Mapped[Platform] = relationship()

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def count_of(self, kind: DifferenceKind | str) -> int:
        return int((self.counts or {}).get(str(kind), 0))

    @property
    def counted(self) -> list[tuple[DifferenceKind, int]]:
        """The kinds it found, with how many of each."""
        return [(kind, self.count_of(kind)) for kind in DifferenceKind if self.count_of(kind)]

    @property
    def total_differences(self) -> int:
        return sum(int(value) for value in (self.counts or {}).values())


class ReconciliationDifference(db.Model):
    """One subscriber on which a run found the platform and the panel disagree, as the platform
    listed it and as we had it."""

    __tablename__ = "reconciliation_differences"
    __table_args__ = (
        # The page: one run's differences (of one kind), keyset on id.
        Index("ix_reconciliation_differences_run_kind_id", "run_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_runs.id", ondelete="CASCADE"))
    kind: Mapped[DifferenceKind] = mapped_column(enum_column(DifferenceKind))
    # subscription_id: ours (empty for an account unknown to the panel)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True)
    # -- the platform's account as listed (empty for one missing there) --
    external_id: Mapped[str | None] = mapped_column(String(64))
    external_ref: Mapped[str | None] = mapped_column(String(64))  # our reference, where it keeps one
    document: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(160))  # the client's, or the platform's
    remote_status: Mapped[str | None] = mapped_column(String(32))  # in the platform's words
    remote_products: Mapped[list[str] | None] = mapped_column(JSON)
    # remote_access: what the platform holds, in our words (empty: none of the plan's states)
    remote_access: Mapped[str | None] = mapped_column(String(16))
    our_status: Mapped[str | None] = mapped_column(String(16))  # our desired status then
    # -- what an operator (or the run itself) did about it --
    resolution: Mapped[Resolution | None] = mapped_column(enum_column(Resolution))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_by_name: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)

    run: Mapped[ReconciliationRun] = relationship()
    subscription: Mapped[Subscription | None] = relationship()
