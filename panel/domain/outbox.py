"""The outbox's lifecycle, one for every outbox row (panel.models.outbox: operations about
subscribers, checks of platform accounts):

    pending ─▶ queued ─▶ running ─▶ done | failed
                 ▲          │ a retry, a deferral, a lost lease
                 └──────────┘

A row is recorded in the transaction that asks for it, and handed to the queue only once that
transaction commits: ``deliver`` notes it on the session, and the jobs layer sends what a committed
transaction noted (panel.jobs.dispatch) — so no job can run before its row exists, and a rolled
back request sends nothing. Each new delivery has a job id of its own (``OutboxRow.job_id``).

A worker takes a row up with a lease (``take``); a run whose lease ends was lost with its worker,
and the relay (``lost_runs``, ``due_for_relay``, ``resend``) sends it again. Every change of state
here is guarded by what it saw, so two workers or two relays never both act on one row.
Functions here change the session; the caller (a request, a job) commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from panel.extensions import db
from panel.models import OutboxRow, OutboxStatus
from panel.models.outbox import WAITING
from panel.models.types import utcnow

# The relay leaves alone what was queued moments ago: its job is most likely on its way.
RELAY_GRACE = timedelta(seconds=5)
RELAY_BATCH = 1000
_NOTED = "outbox.deliveries"


@dataclass(frozen=True)
class Delivery:
    """A row to hand to the queue once the transaction commits: now, or at ``at``."""

    model: type[OutboxRow]
    row_id: int
    job_id: str
    at: datetime | None = None
    background: bool = False  # asked in bulk by the panel itself: after the operators' requests


def deliver(row: OutboxRow, at: datetime | None = None) -> None:
    """In the caller's transaction: once it commits, the row goes to the queue."""
    if row.id is None:
        db.session.flush()
    background = bool(getattr(row, "background", False))
    db.session.info.setdefault(_NOTED, []).append(Delivery(type(row), row.id, row.job_id, at, background))


def deliver_many(model: type[OutboxRow], row_ids: list[int], *, background: bool = False) -> None:
    """``deliver`` for rows just inserted in bulk (first deliveries), by id."""
    noted = db.session.info.setdefault(_NOTED, [])
    noted.extend(Delivery(model, row_id, model.job_id_for(row_id, 0), None, background) for row_id in row_ids)


def redeliver(row: OutboxRow, at: datetime | None = None) -> None:
    """In the caller's transaction: the row goes to the queue again, as a new job (now or at ``at``)."""
    row.status = OutboxStatus.queued
    row.next_attempt_at = at
    row.lease_until = None
    row.deliveries += 1
    deliver(row, at)


def redeliver_where(model: type[OutboxRow], *conditions) -> list[int]:
    """``redeliver`` (now) for the rows that meet ``conditions``, in one UPDATE; their ids."""
    sent = db.session.execute(
        update(model)
        .where(*conditions)
        .values(
            status=OutboxStatus.queued,
            next_attempt_at=None,
            lease_until=None,
            deliveries=model.deliveries + 1,
            updated_at=utcnow(),
        )
        .returning(model.id, model.deliveries, *_background(model)),
        execution_options={"synchronize_session": False},
    ).all()
    for row in sent:
        deliver_id(model, row[0], row[1], background=bool(row[2]) if len(row) > 2 else False)
    return [row[0] for row in sent]


def deliver_id(
    model: type[OutboxRow], row_id: int, deliveries: int, at: datetime | None = None, *, background: bool = False
) -> None:
    """``deliver`` for a row known by its id and deliveries (changed with a Core UPDATE)."""
    delivery = Delivery(model, row_id, model.job_id_for(row_id, deliveries), at, background)
    db.session.info.setdefault(_NOTED, []).append(delivery)


def _background(model: type[OutboxRow]) -> tuple:
    column = getattr(model, "background", None)
    return (column,) if column is not None else ()


def noted_deliveries(session, *, forget: bool = False) -> list[Delivery]:
    """What a transaction noted for the queue (``forget``: and drop the note, as a commit or a
    rollback does)."""
    noted = session.info.get(_NOTED, [])
    if forget:
        session.info.pop(_NOTED, None)
    return list(noted)


def take(row: OutboxRow, lease_seconds: float, now: datetime | None = None) -> None:
    """A worker takes the row up: running, one more attempt, with a lease."""
    now = now or utcnow()
    row.status = OutboxStatus.running
    row.attempts += 1
    row.started_at = now
    row.lease_until = now + timedelta(seconds=lease_seconds)
    row.next_attempt_at = None


def end(row: OutboxRow, status: OutboxStatus) -> None:
    """The row's last change: done or failed."""
    row.status = status
    row.finished_at = utcnow()
    row.lease_until = None


def defer(model: type[OutboxRow], row_id: int, deliveries: int, until: datetime) -> OutboxRow | None:
    """Not now (the platform's circuit is open, its call slots are taken, another request for
    the same customer is running): the row waits until ``until`` without spending an attempt.
    ``deliveries`` is the job's: if the row was handed on meanwhile, that newer job runs it and
    nothing changes here."""
    deferred = db.session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.deliveries == deliveries,
            model.status.in_(WAITING),
        )
        .values(
            status=OutboxStatus.queued,
            next_attempt_at=until,
            lease_until=None,
            deliveries=model.deliveries + 1,
            updated_at=utcnow(),
        )
    ).rowcount
    if not deferred:
        return None
    row = db.session.get(model, row_id, populate_existing=True)
    deliver(row, until)
    return row


def lost_runs(
    model: type[OutboxRow], max_attempts: int, *, now: datetime | None = None, row_ids: list[int] | None = None
) -> tuple[list[OutboxRow], list[OutboxRow]]:
    """Running rows whose lease ran out (their worker died) — or, given ``row_ids``, these ones,
    whose worker is known to have died. Each goes again (delivered), or fails when it has had
    every attempt. Returns (sent again, failed): the caller says why on the failed ones. Each
    change is guarded by the attempt it saw, so a worker finishing at that very moment keeps its
    result."""
    now = now or utcnow()
    expired = model.id.in_(row_ids) if row_ids is not None else model.lease_until < now
    lost = list(
        db.session.execute(
            select(model.id, model.attempts)
            .where(
                model.status == OutboxStatus.running,
                expired,
            )
            .order_by(model.id)
            .limit(RELAY_BATCH)
        )
    )
    again, failed = [], []
    for row_id, attempt in lost:
        last = attempt >= max_attempts
        values = (
            {"status": OutboxStatus.failed, "finished_at": now}
            if last
            else {"status": OutboxStatus.queued, "next_attempt_at": now, "deliveries": model.deliveries + 1}
        )
        taken = db.session.execute(
            update(model)
            .where(
                model.id == row_id,
                model.status == OutboxStatus.running,
                model.attempts == attempt,
                expired,
            )
            .values(lease_until=None, updated_at=now, **values)
        ).rowcount
        if not taken:
            continue
        row = db.session.get(model, row_id, populate_existing=True)
        if last:
            failed.append(row)
        else:
            deliver(row)
            again.append(row)
    return again, failed


def due_for_relay(model: type[OutboxRow], now: datetime | None = None) -> list[OutboxRow]:
    """Rows that should be on the queue now (pending, or queued and due) and were not touched in
    the last moments: the relay checks each is really there."""
    cutoff = (now or utcnow()) - RELAY_GRACE
    return list(
        db.session.scalars(
            select(model)
            .where(
                model.status.in_(WAITING),
                or_(model.next_attempt_at.is_(None), model.next_attempt_at <= cutoff),
                model.updated_at <= cutoff,
            )
            .order_by(model.id)
            .limit(RELAY_BATCH)
        )
    )


def resend(model: type[OutboxRow], rows: list[OutboxRow]) -> list[OutboxRow]:
    """The relay found these missing from the queue: each goes again as a new job (a guarded
    update, so two relays at once send it once)."""
    now = utcnow()
    sent = []
    for row in rows:
        claimed = db.session.execute(
            update(model)
            .where(
                model.id == row.id,
                model.deliveries == row.deliveries,
                model.status.in_(WAITING),
            )
            .values(deliveries=model.deliveries + 1, status=OutboxStatus.queued, updated_at=now, next_attempt_at=None)
        ).rowcount
        if claimed:
            sent.append(row.id)
    resent = (
        list(db.session.scalars(select(model).where(model.id.in_(sent)).execution_options(populate_existing=True)))
        if sent
        else []
    )
    for row in resent:
        deliver(row)
    return resent
