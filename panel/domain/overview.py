"""Visão geral (the home page): the panel's numbers at a glance, each read the cheap way —
the tabs' counters (panel.domain.tab_counts), the failed operations of the last 24 h (a bounded
range of the ``(status, updated_at)`` index), the overdue títulos' totals, the régua's last run and
the licence snapshots of the last 90 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from panel.domain import licences, tab_counts, titles
from panel.domain.kinds import kind_of
from panel.extensions import db
from panel.models import ListTab, Operation, OutboxStatus, Platform, ReguaRun
from panel.models.outbox import UNFINISHED

FAILED_WINDOW = timedelta(hours=24)
FAILED_CAP = 1000  # beyond this the card says "1.000+": the list behind it has them all


@dataclass(frozen=True)
class PlatformCounts:
    platform: Platform
    counts: dict[ListTab, int]
    plan_type: str  # which Integradores list holds its subscribers ('tv_ott' or 'sva')


@dataclass(frozen=True)
class Overview:
    platforms: list[PlatformCounts]
    totals: dict[ListTab, int]
    failed_operations: int  # failed in the last 24 h, up to FAILED_CAP
    failed_capped: bool  # more than FAILED_CAP
    waiting_operations: int  # requests to platforms not yet finished, up to FAILED_CAP
    waiting_capped: bool
    overdue: titles.Totals
    last_regua_run: ReguaRun | None
    series: dict[int, list[tuple[date, int]]]  # platform id → (day, active) for the chart


def failed_since(since: datetime, cap: int = FAILED_CAP) -> tuple[int, bool]:
    """Operations that failed from ``since`` on, counted up to ``cap`` (a range of the
    ``(status, updated_at)`` index, never more than ``cap`` + 1 entries); and whether there are more."""
    found = (
        select(Operation.id)
        .where(Operation.status == OutboxStatus.failed, Operation.updated_at >= since)
        .limit(cap + 1)
        .subquery()
    )
    number = db.session.scalar(select(func.count()).select_from(found)) or 0
    return min(number, cap), number > cap


def waiting(cap: int = FAILED_CAP) -> tuple[int, bool]:
    """Requests to the platforms not finished yet (pending, queued, running), counted up to
    ``cap`` (ranges of the ``(status, id)`` index); and whether there are more."""
    found = select(Operation.id).where(Operation.status.in_(UNFINISHED)).limit(cap + 1).subquery()
    number = db.session.scalar(select(func.count()).select_from(found)) or 0
    return min(number, cap), number > cap


def overview(now: datetime, today: date) -> Overview:
    platforms = list(db.session.scalars(select(Platform).order_by(Platform.active.desc(), Platform.name)))
    counts = tab_counts.counts([platform.id for platform in platforms])
    rows = [PlatformCounts(p, counts[p.id], kind_of(p.kind).plan_type) for p in platforms]
    totals = {tab: sum(row.counts[tab] for row in rows) for tab in ListTab}
    failed, capped = failed_since(now - FAILED_WINDOW)
    waiting_now, waiting_capped = waiting()
    return Overview(
        platforms=rows,
        totals=totals,
        failed_operations=failed,
        failed_capped=capped,
        waiting_operations=waiting_now,
        waiting_capped=waiting_capped,
        overdue=titles.totals(titles.TitleFilter(tab=titles.OVERDUE, today=today)),
        last_regua_run=db.session.scalar(select(ReguaRun).order_by(ReguaRun.id.desc()).limit(1)),
        series=licences.active_series(today),
    )
