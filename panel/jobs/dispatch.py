"""From the outbox to the queue: the one way a job is enqueued for an outbox row.

A domain function notes the rows its transaction asks for (``panel.domain.outbox.deliver``); when
that transaction commits — a request's, a job step's, a command's — ``_after_commit`` sends them,
one atomic script per queue (``panel.jobs.batch_enqueue``), job ids ``<prefix>-<id>[-<delivery>]``.
A job already queued, scheduled or running is left alone, in the same atomic step, so sending
twice is a no-op. If Redis does not answer, the
rows stay *pending* and the relay (panel.jobs.relay) sends them when it is back; a rolled-back
transaction sends nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from redis import Redis, RedisError
from rq.job import Job
from sqlalchemy import event, update

from panel.domain.outbox import Delivery, noted_deliveries
from panel.extensions import db
from panel.jobs.batch_enqueue import BatchJob, enqueue_batch
from panel.jobs.queues import QUEUE_SPECS, get_queue
from panel.models import Operation, OutboxRow, OutboxStatus, PlatformTask, ReconciliationRun, ReguaRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxJob:
    """The job that runs one kind of outbox row, and where it waits."""

    func: str
    queue: str
    description: str  # shown on the job dashboard (plain text; "{id}" is the row's id)
    background_queue: str | None = None  # for rows the panel asked in bulk (the régua's)

    def queue_for(self, delivery: Delivery) -> str:
        return self.background_queue if delivery.background and self.background_queue else self.queue


JOBS: dict[type[OutboxRow], OutboxJob] = {
    Operation: OutboxJob("panel.jobs.provisioning.run_operation", "provisioning", "Operação {id}", "background"),
    PlatformTask: OutboxJob("panel.jobs.platform_checks.run_platform_check", "sync", "Verificação de plataforma {id}"),
    ReguaRun: OutboxJob("panel.jobs.regua.run_regua", "default", "Régua {id}"),
    ReconciliationRun: OutboxJob("panel.jobs.reconciliation.run_reconciliation", "default", "Conciliação {id}"),
}


# -- sending ----------------------------------------------------------------------------------


def _job_key(job_id: str) -> str:
    return Job.redis_job_namespace_prefix + job_id


def job_statuses(job_ids: list[str], connection: Redis) -> dict[str, str | None]:
    """Each job's status in Redis (None: Redis does not have it), in one round trip."""
    pipe = connection.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(_job_key(job_id), "status")
    return {job_id: status.decode() if status else None for job_id, status in zip(job_ids, pipe.execute(), strict=True)}


def send(deliveries: list[Delivery], connection: Redis | None = None) -> int:
    """Enqueue a job for each delivery not already on its way. Returns how many were enqueued."""
    if not deliveries:
        return 0
    by_queue: dict[tuple[OutboxJob, str], list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        job = JOBS[delivery.model]
        by_queue[(job, job.queue_for(delivery))].append(delivery)
    sent = 0
    for (job, queue_name), items in by_queue.items():
        sent += _send(job, queue_name, items, connection)
    return sent


def _send(job: OutboxJob, queue_name: str, deliveries: list[Delivery], connection: Redis | None) -> int:
    spec = QUEUE_SPECS[queue_name]
    batch = [
        BatchJob(d.job_id, d.row_id, job.description.format(id=d.row_id), None if d.at is None else _whole_second(d.at))
        for d in {d.job_id: d for d in deliveries}.values()
    ]
    # Kept only when it failed (for the dashboard): the outcome lives on the row.
    return enqueue_batch(
        get_queue(queue_name, connection),
        job.func,
        batch,
        timeout=spec.job_timeout,
        result_ttl=0,
        failure_ttl=spec.failure_ttl,
    )


def _whole_second(at: datetime) -> datetime:
    # RQ's scheduler keeps whole seconds: round up, so a retry never runs before its time (a
    # platform's Retry-After included).
    return at.replace(microsecond=0) + timedelta(seconds=1) if at.microsecond else at


def _mark_queued(deliveries: list[Delivery]) -> None:
    """What was just enqueued reads *Na fila* (the committed transaction is over: a short one)."""
    by_model: dict[type[OutboxRow], list[int]] = defaultdict(list)
    for delivery in deliveries:
        by_model[delivery.model].append(delivery.row_id)
    with db.engine.begin() as connection:
        for model, ids in by_model.items():
            connection.execute(
                update(model)
                .where(model.id.in_(ids), model.status == OutboxStatus.pending)
                .values(status=OutboxStatus.queued)
            )


def _after_commit(session) -> None:
    deliveries = noted_deliveries(session, forget=True)
    if not deliveries:
        return
    try:
        send(deliveries)
    except RedisError:
        log.warning("could not enqueue requests for the platforms (%d); the relay will send them", len(deliveries))
        return
    _mark_queued(deliveries)


def _after_rollback(session, _previous_transaction=None) -> None:
    noted_deliveries(session, forget=True)


_HANDLERS = (
    ("after_commit", _after_commit),
    ("after_rollback", _after_rollback),
    ("after_soft_rollback", _after_rollback),
)


def init_app(app: Flask) -> None:
    """Listen to the session's commits and rollbacks (once per process: the handlers read the app
    from the context they run in)."""
    for name, handler in _HANDLERS:
        if not event.contains(db.session, name, handler):
            event.listen(db.session, name, handler)
