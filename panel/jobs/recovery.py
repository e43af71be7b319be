"""What a worker does when RQ tells it a job died with its work horse (killed, out of memory):
the request that job carried is handed back at once, instead of waiting for its lease to end."""

from __future__ import annotations

import logging

from rq.job import Job

from panel.jobs import platform_tasks, provisioning

log = logging.getLogger(__name__)


def hand_back(job: Job) -> None:
    try:
        func, args = job.func_name, job.args
    except Exception:  # a job whose data cannot be read carries nothing of ours
        return
    if not args:
        return
    if func == provisioning.OPERATION_JOB:
        provisioning.hand_back(int(args[0]))
    elif func == platform_tasks.TASK_JOB:
        platform_tasks.hand_back(int(args[0]))
