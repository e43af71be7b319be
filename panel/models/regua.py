"""The régua's runs: each day, each active rule (*Régua de Configuração*) runs once — a row here
per rule and day, an outbox row (panel.models.outbox) that a job carries out, recorded with who
started it and what it did."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.billing_rule import BillingRule
from panel.models.outbox import OutboxRow
from panel.models.types import LabelledEnum, enum_column


class ReguaTrigger(LabelledEnum):
    cron = "cron", "agendada"
    cli = "cli", "pela linha de comando"
    admin = "admin", "manual"


class ReguaRun(OutboxRow, db.Model):
    __tablename__ = "regua_runs"
    __table_args__ = (
        # A rule acts once a day, whoever asks (two schedulers, the scheduler and the CLI at once).
        Index("uq_regua_runs_day_rule", "day", "rule_id", unique=True),
        Index("ix_regua_runs_status_next_attempt", "status", "next_attempt_at"),
    )
    job_prefix = "regua-run"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]  # the day judged (the operators' date); overdue days count up to it
    # rule_id: the rule that ran (empty once the rule was removed; rule_title keeps its name)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("billing_rules.id", ondelete="SET NULL"))
    rule_title: Mapped[str] = mapped_column(String(160))
    trigger: Mapped[ReguaTrigger] = mapped_column(enum_column(ReguaTrigger))
    # What it did: contracts judged, blocked, unblocked, skipped (by reason), requests that failed.
    candidates: Mapped[int] = mapped_column(default=0)
    blocked: Mapped[int] = mapped_column(default=0)
    unblocked: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    skipped_reasons: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # error: why the run itself failed (a job's crash), for the page
    error: Mapped[str | None] = mapped_column(Text)

    rule: Mapped[BillingRule | None] = relationship()
