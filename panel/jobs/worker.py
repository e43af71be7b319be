"""The RQ worker and the cron scheduler, run inside the app context by `flask worker` and
`flask scheduler`."""

from __future__ import annotations

import os
import signal

from flask import current_app
from rq import Worker
from rq.cron import CronScheduler

from panel.extensions import db
from panel.jobs.queues import QUEUES, get_queue


class PanelWorker(Worker):
    """RQ's forking worker (it has heartbeats and can kill a stuck job), with the app context
    inherited by each work horse."""

    _early_stop = False

    def bootstrap(self, *args, **kwargs):
        # RQ registers the worker and forks its scheduler before it installs its own signal
        # handlers: a SIGTERM in that window would kill the worker outright and orphan the
        # scheduler process. Until RQ's handlers are in place, a stop request is remembered...
        self._worker_pid = os.getpid()
        signal.signal(signal.SIGTERM, self._remember_early_stop)
        signal.signal(signal.SIGINT, self._remember_early_stop)
        super().bootstrap(*args, **kwargs)

    def _remember_early_stop(self, signum, frame) -> None:
        if os.getpid() != self._worker_pid:
            # The scheduler process, forked with this handler, before it installed its own: it
            # stops as it would have without us (else the worker would wait for it forever).
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self._early_stop = True

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        if self._early_stop:
            # ...and honoured here: the work loop stops at once and tears the scheduler down.
            self._stop_requested = True

    def main_work_horse(self, job, queue):
        # The horse is a fork: drop the parent's pooled database connections without closing
        # them (they still belong to the parent) so the job opens its own.
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


def warm_up() -> None:
    """Do once, in the worker, what every job would otherwise redo in its forked work horse:
    import the job modules, configure the ORM's mappers and compile the engine's first
    statements (each horse inherits them). Measured by bench/provisioning.py."""
    from sqlalchemy.orm import configure_mappers

    from panel.domain import operations
    from panel.jobs import maintenance, platform_tasks, provisioning  # noqa: F401 (imported to be inherited)

    configure_mappers()
    operations.claim(0)  # no such operation: it only compiles and runs the claim's first query
    db.session.remove()
    db.engine.dispose()  # no connection crosses a fork; the compiled statements stay with the engine


def run_worker(queue_names: list[str] | None = None, *, burst: bool = False, with_scheduler: bool = True) -> bool:
    warm_up()
    connection = current_app.extensions["redis"]
    names = queue_names or [spec.name for spec in QUEUES]
    worker = PanelWorker([get_queue(name, connection) for name in names], connection=connection)
    # with_scheduler: RQ's own scheduler process runs delayed retries (Retry intervals).
    return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level=current_app.config["LOG_LEVEL"])


def run_scheduler() -> None:
    scheduler = CronScheduler(
        connection=current_app.extensions["redis"], logging_level=current_app.config["LOG_LEVEL"]
    )
    scheduler.load_config_from_file("panel.jobs.cron_config")
    scheduler.start()
