"""The RQ worker and the cron scheduler, run inside the app context by `flask worker` and
`flask scheduler`, each under a supervisor (``panel.jobs.supervisor``) that restarts it.

Riding out Redis outages: an idle worker keeps trying Redis with RQ's own backoff (its log says
so once, as a WARNING); once Redis answers, the worker registers itself again if Redis lost its
registration (a restart without persistence, a FLUSHDB) and restarts RQ's scheduler process (the
one that moves delayed retries to the queue) if the outage killed it. A worker that loses Redis in
the middle of a job, and the cron scheduler, end instead; their supervisor starts them again when
Redis is back.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from multiprocessing import get_context

from flask import current_app
from redis import RedisError
from rq import Worker, worker_registration
from rq.cron import CronScheduler
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler
from sqlalchemy.orm import configure_mappers

from panel.database import unit_of_work
from panel.domain import provisioning
from panel.extensions import db
from panel.jobs import maintenance, platform_checks, relay  # noqa: F401 (imported once, inherited by each horse)
from panel.jobs import provisioning as provisioning_job  # noqa: F401 (likewise)
from panel.jobs.queues import QUEUES, get_queue
from panel.jobs.recovery import hand_back
from panel.jobs.supervisor import Supervisor

log = logging.getLogger(__name__)

# How often, at most, a worker checks that Redis still lists it and that RQ's scheduler process
# lives (one SISMEMBER: cheap, but not on every heartbeat).
REGISTRATION_CHECK_S = 10.0


class OutageLog(logging.Filter):
    """RQ's words for a Redis outage, made quiet: its idle worker logs an ERROR at every retry, and
    a process that loses Redis logs a traceback. The first retry becomes one WARNING, the next ones
    go, and a Redis error's traceback becomes one line (the supervisor says the rest)."""

    RETRYING = "could not connect to Redis"

    def __init__(self) -> None:
        super().__init__()
        self.in_outage = False

    def filter(self, record: logging.LogRecord) -> bool:
        if self.RETRYING in str(record.msg):
            if self.in_outage:
                return False
            self.in_outage = True
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "Redis does not answer; the worker waits for it and resumes by itself", ()
            return True
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RedisError) or (
            record.levelno >= logging.ERROR and "redis.exceptions." in record.getMessage()
        ):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = (
                "%s stopped: Redis unavailable (%s)",
                (record.name, type(error).__name__ if error else "ConnectionError"),
            )
            record.exc_info = record.exc_text = None
        return True


outage_log = OutageLog()


class PanelScheduler(RQScheduler):
    """RQ's scheduler process (it moves delayed retries to the queue when they are due), ending
    quietly when Redis goes away instead of with a traceback: its worker starts it again."""

    def start(self):
        self._status = self.Status.STARTED
        self._connection = None  # a Redis connection must not cross the fork
        self._process = get_context("fork").Process(target=_run_scheduler_quietly, args=(self,), name="Scheduler")
        self._process.start()
        return self._process


def _run_scheduler_quietly(scheduler: RQScheduler) -> None:  # pragma: no cover - its own process
    try:
        scheduler.work()
    except RedisError as error:
        scheduler.log.info(
            "Scheduler process stopped: Redis unavailable (%s); its worker starts it again", type(error).__name__
        )


class PanelWorker(Worker):
    """RQ's forking worker (it has heartbeats and can kill a stuck job), with the app context
    inherited by each work horse, that keeps itself registered and its scheduler alive, and hands
    a job back at once when its work horse dies."""

    _early_stop = False
    _checked_at = 0.0
    # RQ's scheduler process holds its locks under its name for a minute after it dies: a worker
    # started again by its supervisor keeps the same name, so it takes them back at once.
    scheduler_name: str | None = None

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

    def _start_scheduler(
        self,
        burst=False,
        logging_level="INFO",
        date_format=DEFAULT_LOGGING_DATE_FORMAT,
        log_format=DEFAULT_LOGGING_FORMAT,
    ):
        # RQ's own, with PanelScheduler for RQScheduler.
        self.scheduler = PanelScheduler(
            self.queues,
            connection=self.connection,
            name=self.scheduler_name,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if not burst:
            self.scheduler.start()
            return
        try:
            self.scheduler.register_birth()
            self.scheduler.enqueue_scheduled_jobs()
        finally:
            self.scheduler.release_locks()
            self.scheduler.register_death()

    # -- staying known through Redis outages ------------------------------------------------------

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is None and not self.is_horse:
            self._keep_going()

    def _keep_going(self) -> None:
        """After a heartbeat went through: right after an outage, or every REGISTRATION_CHECK_S,
        make sure Redis still lists this worker and that RQ's scheduler process lives."""
        back = outage_log.in_outage
        now = time.monotonic()
        if not back and now - self._checked_at < min(REGISTRATION_CHECK_S, self.worker_ttl / 2):
            return
        self._checked_at = now
        if back:
            outage_log.in_outage = False
            self.log.info("Worker %s: Redis answers again", self.name)
        if not self.connection.sismember(worker_registration.REDIS_WORKER_KEYS, self.key):
            # Redis restarted without its data, or was flushed: the banner would say no worker runs.
            with self.connection.pipeline() as pipeline:
                pipeline.hset(self.key, mapping=self.serialize())
                worker_registration.register(self, pipeline)
                pipeline.expire(self.key, self.worker_ttl + 60)
                pipeline.execute()
            self.log.info("Worker %s: registered again (Redis had lost its registration)", self.name)
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None and (scheduler._process is None or not scheduler._process.is_alive()):
            # Its process dies with Redis; without it, delayed retries would wait for the relay.
            # The lock it held carries this same name, so taking it again is a refresh.
            scheduler.acquire_locks(auto_start=True)

    # -- a work horse that died --------------------------------------------------------------------

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage):
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        # RQ knows the job died with its horse: what it carried goes again now, not after its lease.
        hand_back(job)


def warm_up() -> None:
    """Do once, in the worker, what every job would otherwise redo in its forked work horse:
    configure the ORM's mappers and compile the engine's first statements (each horse inherits
    them; the job modules are imported above). Measured by bench/provisioning.py."""
    configure_mappers()
    with unit_of_work():
        provisioning.claim(0)  # no such operation: it only compiles and runs the claim's first query
    db.session.remove()
    db.engine.dispose()  # no connection crosses a fork; the compiled statements stay with the engine


def _install_outage_log() -> None:
    for name in ("rq.worker", "rq.scheduler", "rq.cron"):
        logger = logging.getLogger(name)
        if outage_log not in logger.filters:
            logger.addFilter(outage_log)


def work(
    queue_names: list[str] | None = None,
    *,
    burst: bool = False,
    with_scheduler: bool = True,
    scheduler_name: str | None = None,
) -> bool:
    """One RQ worker's life (the supervised part of `flask worker`)."""
    _install_outage_log()
    warm_up()
    connection = current_app.extensions["redis"]
    names = queue_names or [spec.name for spec in QUEUES]
    ttl = current_app.config["WORKER_TTL"]
    # Busy, the worker beats every job_monitoring_interval; idle, every ttl − 15 s: both inside
    # the ttl the banner allows (panel.jobs.health.live_workers).
    worker = PanelWorker(
        [get_queue(name, connection) for name in names],
        connection=connection,
        worker_ttl=ttl,
        job_monitoring_interval=min(30, ttl // 2),
    )
    worker.scheduler_name = scheduler_name
    # with_scheduler: RQ's own scheduler process runs delayed retries (Retry intervals).
    return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level=current_app.config["LOG_LEVEL"])


def run_worker(queue_names: list[str] | None = None, *, burst: bool = False, with_scheduler: bool = True) -> int:
    if burst:
        work(queue_names, burst=True, with_scheduler=with_scheduler)
        return 0
    scheduler_name = uuid.uuid4().hex  # one per supervised worker, kept across its restarts
    return Supervisor(
        "worker",
        lambda: work(queue_names, with_scheduler=with_scheduler, scheduler_name=scheduler_name),
        current_app.extensions["redis"],
        outage_logged=lambda: outage_log.in_outage,
    ).run()


def schedule() -> None:
    """One cron scheduler's life (the supervised part of `flask scheduler`)."""
    _install_outage_log()
    scheduler = CronScheduler(connection=current_app.extensions["redis"], logging_level=current_app.config["LOG_LEVEL"])
    scheduler.load_config_from_file("panel.jobs.cron_config")
    scheduler.start()


def run_scheduler() -> int:
    return Supervisor("scheduler", schedule, current_app.extensions["redis"]).run()
