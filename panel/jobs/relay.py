"""The relay (every RELAY_INTERVAL s under `flask scheduler`): no outbox row is ever left behind.
It sends again the runs whose worker died (their lease is over), and every row that should be on
the queue but that Redis does not have (emptied, restarted, or an enqueue that failed after the
commit), for every kind of outbox row alike."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from rq.job import JobStatus

from panel.database import unit_of_work
from panel.domain import outbox, platform_checks, provisioning, reconciliation, regua
from panel.jobs.batch_enqueue import ON_ITS_WAY
from panel.jobs.dispatch import JOBS, job_statuses
from panel.jobs.queues import redis_connection
from panel.models.types import utcnow

log = logging.getLogger(__name__)

# A scheduled retry overdue by two relay periods (and at least this) is taken as stuck — no worker
# runs RQ's scheduler, or Redis lost it — and is sent again.
SCHEDULER_LATE_MIN = timedelta(seconds=10)


def relay() -> dict[str, int]:
    with unit_of_work():
        lost = (
            len(provisioning.requeue_lost())
            + len(platform_checks.requeue_lost())
            + len(regua.requeue_lost())
            + len(reconciliation.requeue_lost())
        )
    connection = redis_connection()
    late = utcnow() - max(SCHEDULER_LATE_MIN, timedelta(seconds=2 * current_app.config["RELAY_INTERVAL"]))
    resent = 0
    for model in JOBS:
        with unit_of_work():
            due = outbox.due_for_relay(model)
            if not due:
                continue
            found = job_statuses([row.job_id for row in due], connection)
            missing = [
                row
                for row in due
                if found[row.job_id] not in ON_ITS_WAY
                or (
                    # a retry whose time passed long ago: no scheduler is moving it to the queue
                    found[row.job_id] == JobStatus.SCHEDULED.value
                    and row.next_attempt_at is not None
                    and row.next_attempt_at < late
                )
            ]
            resent += len(outbox.resend(model, missing)) if missing else 0
    if lost or resent:
        # Something was lost on its way (a worker died, Redis lost a job): worth a look.
        log.warning("relay: sent again: runs whose worker died %d, jobs Redis did not have %d", lost, resent)
    return {"lost": lost, "resent": resent}
