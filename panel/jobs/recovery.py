"""What a worker does when RQ tells it a job died with its work horse (killed, out of memory):
the outbox row that job carried is handed back at once, instead of waiting for its lease to end."""

from __future__ import annotations

from rq.job import Job

from panel.jobs import platform_checks, provisioning, reconciliation, regua
from panel.jobs.dispatch import JOBS
from panel.models import Operation, PlatformTask, ReconciliationRun, ReguaRun

HAND_BACK = {
    JOBS[Operation].func: provisioning.hand_back,
    JOBS[PlatformTask].func: platform_checks.hand_back,
    JOBS[ReguaRun].func: regua.hand_back,
    JOBS[ReconciliationRun].func: reconciliation.hand_back,
}


def hand_back(job: Job) -> None:
    try:
        func, args = job.func_name, job.args
    except Exception:  # a job whose data cannot be read carries nothing of ours
        return
    if args and func in HAND_BACK:
        HAND_BACK[func](int(args[0]))
