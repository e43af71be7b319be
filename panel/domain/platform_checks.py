"""*Testar conexão* and *Sincronizar produtos*: an operator's check of a platform account, recorded
as an outbox row (``PlatformTask``) and run by a job (panel.jobs.platform_checks) that gets only
its id. No retry on the platform's answer — the operator is waiting and can click again — but a
check whose worker died is sent again by the relay, like an operation."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from panel.domain import audit, outbox, words
from panel.domain.common import Actor
from panel.extensions import db
from panel.models import OutboxStatus, Platform, PlatformTask, TaskKind, User
from panel.models.types import utcnow

# A check the relay took up again after its worker died; one more loss and it fails.
MAX_ATTEMPTS = 2
# Shown as not finished, and a new request accepted, past this (no relay running to send it again).
DISPLAY_LEASE = timedelta(minutes=10)


def _is_stale(task: PlatformTask) -> bool:
    return not task.status.finished and task.created_at < utcnow() - DISPLAY_LEASE


def display_status(task: PlatformTask) -> OutboxStatus | None:
    """The status to show; None for a check taken as lost (queued or running far too long)."""
    return None if _is_stale(task) else task.status


def latest_task(platform: Platform, kind: TaskKind) -> PlatformTask | None:
    return db.session.scalar(
        select(PlatformTask)
        .where(PlatformTask.platform_id == platform.id, PlatformTask.kind == kind)
        .order_by(PlatformTask.id.desc())
        .limit(1)
    )


def request_task(actor: Actor, platform: Platform, kind: TaskKind) -> PlatformTask:
    """Record the request; it goes to the queue when the transaction commits. A second click
    while one is on its way returns the same check."""
    current = latest_task(platform, kind)
    if current is not None and not current.status.finished and not _is_stale(current):
        return current
    task = PlatformTask(
        platform=platform,
        kind=kind,
        status=OutboxStatus.pending,
        requested_by_id=actor.user.id if actor.user is not None else None,
        requested_by_name=actor.name,
    )
    db.session.add(task)
    db.session.flush()
    asked = f"Pediu {words.task_word(kind).lower()} da plataforma {platform.name}."
    audit.record(actor, f"platform.{kind.value}", asked, target=platform)
    outbox.deliver(task)
    return task


def start(task_id: int) -> PlatformTask | None:
    """A worker takes the check up (None: nothing to do — finished, or running elsewhere)."""
    task = db.session.get(PlatformTask, task_id, populate_existing=True)
    if task is None or task.status not in (OutboxStatus.pending, OutboxStatus.queued):
        return None
    outbox.take(task, current_app.config["PROVISIONING_LEASE"])
    db.session.flush()
    return task


def _still_mine(task_id: int, attempt: int) -> PlatformTask | None:
    task = db.session.get(PlatformTask, task_id, populate_existing=True)
    if task is None or task.status is not OutboxStatus.running or task.attempts != attempt:
        return None  # removed with its platform, or taken as lost and sent again meanwhile
    return task


def finish(task_id: int, attempt: int, status: OutboxStatus, message: str, details: dict | None = None) -> None:
    """The check's result (done or failed), as the platform's page shows it."""
    task = _still_mine(task_id, attempt)
    if task is None:
        return
    outbox.end(task, status)
    task.message = message
    task.details = details
    db.session.flush()


def requester(task: PlatformTask) -> Actor:
    user = db.session.get(User, task.requested_by_id) if task.requested_by_id else None
    return Actor(name=task.requested_by_name, user=user)


LOST = "O processo que executava a verificação parou antes de terminar; tente de novo."


def requeue_lost(now=None, task_ids: list[int] | None = None) -> list[PlatformTask]:
    """Checks whose worker died: sent again once, then failed ("tente de novo")."""
    again, failed = outbox.lost_runs(PlatformTask, MAX_ATTEMPTS, now=now, row_ids=task_ids)
    for task in failed:
        task.message = LOST
    db.session.flush()
    return again
