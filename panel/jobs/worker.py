"""The RQ worker and the cron scheduler, run inside the app context by `flask worker` and
`flask scheduler`, each under a supervisor (``panel.jobs.supervisor``) that restarts it.

No process per job. A job runs in the worker's own process (RQ's ``SimpleWorker``), which keeps
what it paid for once — the compiled ORM statements, open database and Redis connections, each
platform's adapter with its HTTP session and decrypted token (``panel.jobs.adapters``) — and
keeps what a work horse bought: a job still times out (RQ's SIGALRM), a ``Watchdog`` thread ends
the process when a call hangs in C code past the job's timeout + WORKER_WATCHDOG_GRACE (the
supervisor starts a new one), each job gets a fresh database session, the worker starts afresh
after ``WORKER_MAX_JOBS`` jobs, and a job whose worker died is handed back at once by the supervisor (or,
should everything die, by its lease and the relay). The same for every queue, by decision (the
README's "The worker: no process per job" says why): every job here waits on a platform or the
database with timeouts set, none is CPU-bound or meant to hold memory.

Riding out Redis outages: an idle worker keeps trying Redis with RQ's own backoff (its log says
so once, as a WARNING); once Redis answers, the worker registers itself again if Redis lost its
registration (a restart without persistence, a FLUSHDB) and restarts RQ's scheduler process (the
one that moves delayed retries to the queue) if the outage killed it. A worker that loses Redis in
the middle of a job, and the cron scheduler, end instead; their supervisor starts them again when
Redis is back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import sys
import threading
import time
import uuid
from multiprocessing import get_context

from flask import current_app
from redis import RedisError
from rq import SimpleWorker, worker_registration
from rq.cron import CronScheduler
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.executions import WORKER_EXECUTIONS_KEY_TEMPLATE, Execution, ExecutionRegistry
from rq.job import Job, JobStatus
from rq.results import Result
from rq.scheduler import RQScheduler
from rq.suspension import WORKERS_SUSPENDED
from rq.timeouts import JobTimeoutException
from rq.utils import now, utcformat
from rq.worker import WorkerStatus
from sqlalchemy.orm import configure_mappers

from panel.extensions import db
from panel.jobs.dispatch import JOBS
from panel.jobs.licences import compact_tab_counts, licence_snapshot_tick
from panel.jobs.maintenance import heartbeat
from panel.jobs.queues import QUEUE_SPECS, QUEUES, get_queue
from panel.jobs.reconciliation import reconcile_tick
from panel.jobs.recovery import hand_back
from panel.jobs.regua import regua_tick
from panel.jobs.relay import relay
from panel.jobs.supervisor import RECYCLED, REDIS_LOST, REDIS_LOST_LOGGED, Supervisor, die_with

log = logging.getLogger(__name__)

# The jobs that carry an outbox row's id (panel.jobs.dispatch): run by the lean path below.
OUTBOX_FUNCTIONS = frozenset(job.func for job in JOBS.values())

# How often, at most, a worker asks whether `rq suspend` suspended the workers.
SUSPENSION_CHECK_S = 1.0
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


class RoutineLog(logging.Filter):
    """The periodic jobs' comings and goings (panel.jobs.cron_config: the heartbeat and the relay
    every 30 s, the ticks) at DEBUG: at INFO they bury what matters in `make run`'s terminal. What
    goes wrong with them stays loud: a failure is RQ's ERROR, a relay that had to send something
    again says so as a WARNING, and `make run` warns when the worker or the scheduler is missing."""

    PERIODIC = frozenset(
        f"{job.__module__}.{job.__qualname__}"
        for job in (heartbeat, relay, regua_tick, reconcile_tick, compact_tab_counts, licence_snapshot_tick)
    )
    # RQ's INFO lines about one job: its start (by function or by id), its end, its result's TTL.
    STARTED = re.compile(r": ([\w.]+)\(\) \(([\w-]+)\)$")
    COMPLETED = re.compile(r"^Successfully completed ([\w.]+)\(\) job in ")
    ABOUT_JOB = re.compile(r"(?:Job OK \(([\w-]+)\)$|: job ([\w-]+) result is kept for )")
    CRON_ENQUEUED = "Enqueued job "
    REMEMBERED = 64  # ids of periodic jobs in flight (one worker runs them one after another)

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, None] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        message = record.getMessage()
        if not self._routine(record.name, message):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)

    def _routine(self, logger: str, message: str) -> bool:
        if logger == "rq.cron":
            return message.startswith(self.CRON_ENQUEUED)
        started = self.STARTED.search(message)
        if started:
            if started.group(1) not in self.PERIODIC:
                return False
            self.ids[started.group(2)] = None
            while len(self.ids) > self.REMEMBERED:
                del self.ids[next(iter(self.ids))]
            return True
        completed = self.COMPLETED.match(message)
        if completed:
            return completed.group(1) in self.PERIODIC
        about = self.ABOUT_JOB.search(message)
        if about:
            job_id = about.group(1) or about.group(2)
            routine = job_id in self.ids
            if about.group(2):  # RQ's last line about a job
                self.ids.pop(job_id, None)
            return routine
        return False


routine_log = RoutineLog()


class PanelScheduler(RQScheduler):
    """RQ's scheduler process (it moves delayed retries to the queue when they are due), ending
    quietly when Redis goes away instead of with a traceback: its worker starts it again."""

    def start(self):
        self._status = self.Status.STARTED
        self._connection = None  # a Redis connection must not cross the fork
        self._process = get_context("fork").Process(
            target=_run_scheduler_quietly, args=(self, os.getpid()), name="Scheduler"
        )
        self._process.start()
        return self._process


def _run_scheduler_quietly(scheduler: RQScheduler, worker_pid: int) -> None:  # pragma: no cover - its own process
    die_with(worker_pid)  # a worker killed outright must not leave its scheduler behind
    try:
        scheduler.work()
    except RedisError as error:
        scheduler.log.info(
            "Scheduler process stopped: Redis unavailable (%s); its worker starts it again", type(error).__name__
        )


# The exit code with which the watchdog ends the worker (a job hung past its timeout and
# WORKER_WATCHDOG_GRACE), for the supervisor's log.
WATCHDOG_EXIT = 70


class Watchdog(threading.Thread):
    """While a job runs: beats the worker's heartbeat (RQ beats only between jobs in this
    process), and ends the process if the job outlives its timeout by ``grace`` seconds
    (WORKER_WATCHDOG_GRACE) — a call stuck where SIGALRM cannot interrupt it. The supervisor
    then starts a new worker and hands the job's row back (panel.jobs.supervisor)."""

    def __init__(self, worker: PanelWorker, beat_every: float, grace: float) -> None:
        super().__init__(name="watchdog", daemon=True)
        self.worker, self.beat_every, self.grace = worker, beat_every, grace
        self.deadline: float | None = None
        self.stopped = False
        self.wake = threading.Event()

    def watch(self, timeout: float) -> None:
        # (The thread is not woken: it looks at the deadline at its next beat, well before the
        # deadline, and a job of a few milliseconds costs no beat.)
        self.deadline = time.monotonic() + timeout + self.grace

    def rest(self) -> None:
        self.deadline = None

    def stop(self) -> None:
        self.stopped = True
        self.wake.set()

    def run(self) -> None:  # pragma: no cover - a thread of the worker process
        while not self.stopped:
            self.wake.wait(self.beat_every)
            self.wake.clear()
            deadline = self.deadline
            if deadline is None:
                continue
            if time.monotonic() > deadline:
                log.error(
                    "a job outlived its timeout by %.0f s: ending the worker (its supervisor starts another)",
                    self.grace,
                )
                logging.shutdown()
                os._exit(WATCHDOG_EXIT)
            with contextlib.suppress(RedisError):  # the job meets the outage too; the worker's loop handles it
                self.worker.beat()


class PanelWorker(SimpleWorker):
    """RQ's worker, without a process per job (see the module's docstring), that keeps itself
    registered and its scheduler alive through Redis outages."""

    _early_stop = False
    asked_to_stop = False  # by a signal: else the work loop ended after WORKER_MAX_JOBS jobs
    _checked_at = 0.0
    _beaten_at = 0.0
    _suspension_checked_at = 0.0
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
        grace = current_app.config["WORKER_WATCHDOG_GRACE"]
        # It looks at the job's deadline when it wakes: often enough to be on time within the grace.
        self.watchdog = Watchdog(self, beat_every=min(max(5.0, self.worker_ttl / 3), grace), grace=grace)
        self.watchdog.start()

    def _remember_early_stop(self, signum, frame) -> None:
        if os.getpid() != self._worker_pid:
            # The scheduler process, forked with this handler, before it installed its own: it
            # stops as it would have without us (else the worker would wait for it forever).
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self._early_stop = self.asked_to_stop = True

    def teardown(self):
        if hasattr(self, "watchdog"):
            self.watchdog.stop()
        super().teardown()

    def request_stop(self, signum, frame):
        self.asked_to_stop = True  # (RQ sets no flag when it stops an idle worker)
        super().request_stop(signum, frame)

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        if self._early_stop:
            # ...and honoured here: the work loop stops at once and tears the scheduler down.
            self._stop_requested = True

    def execute_job(self, job, queue):
        self.watchdog.watch(job.timeout or QUEUE_SPECS[queue.name].job_timeout)
        try:
            if job.result_ttl == 0 and job.func_name in OUTBOX_FUNCTIONS:
                self._execute_outbox_job(job, queue)
            else:
                super().execute_job(job, queue)
        finally:
            self.watchdog.rest()
            db.session.remove()  # a fresh session for the next job

    def _execute_outbox_job(self, job: Job, queue) -> None:
        """RQ's own execution of a job, for the outbox's jobs, in two round trips to Redis instead
        of about ten: the same records (the execution, the started registry, the worker's index of
        what it runs — the supervisor's hand-back reads it), written together before the job, and
        taken down together with the job's hash after it. These jobs keep no result, have no
        dependents, callbacks or repeats (panel.jobs.dispatch writes them), so RQ's steps for
        those are skipped; a job that raises or times out goes RQ's own failure path."""
        ttl = self.get_heartbeat_ttl(job)
        with self.connection.pipeline() as pipeline:
            execution = Execution.create(job, ttl, pipeline=pipeline, worker_name=self.name)
            job.prepare_for_execution(self.name, pipeline=pipeline)
            if len(self.queues) == 1:  # RQ moved it to its intermediate list (one queue only)
                pipeline.lrem(queue.intermediate_queue_key, 1, job.id)
            self._beat(pipeline, WorkerStatus.BUSY)
            pipeline.execute()
        self.executions[execution.id] = execution
        try:
            with self.death_penalty_class(job.timeout or queue.DEFAULT_TIMEOUT, JobTimeoutException, job_id=job.id):
                job.perform()
        except BaseException:  # as RQ's perform_job: whatever the job raised is its failure
            self._finalize_failure(job, queue, execution, sys.exc_info())
            self.set_state(WorkerStatus.IDLE)
            return
        job.ended_at = now()
        job._status = JobStatus.FINISHED
        with self.connection.pipeline() as pipeline:
            self.increment_successful_job_count(pipeline)
            self.increment_total_working_time(job.ended_at - job.started_at, pipeline)
            queue.started_job_registry.remove_execution(execution, pipeline=pipeline)
            pipeline.srem(execution.worker_executions_key, execution.composite_key)
            pipeline.delete(
                execution.key,
                ExecutionRegistry(job.id, self.connection).key,
                job.key,
                job.dependents_key,
                job.dependencies_key,
                Result.get_key(job.id),
            )
            self._beat(pipeline, WorkerStatus.IDLE)
            pipeline.execute()
        self.executions.pop(execution.id, None)
        self.log.info("Worker %s: %s: Job OK (%s)", self.name, job.origin, job.id)

    def _beat(self, pipeline, state: str) -> None:
        """The worker's state and heartbeat, in one write of its hash."""
        self._state, self.last_heartbeat = state, now()
        pipeline.hset(self.key, mapping={"state": state, "last_heartbeat": utcformat(self.last_heartbeat)})
        pipeline.expire(self.key, self.worker_ttl + 60)
        self._beaten_at = time.monotonic()

    def check_for_suspension(self, burst: bool) -> None:
        # RQ asks Redis (with a heartbeat, in a transaction: six commands) before every job;
        # once a second is soon enough for `rq suspend` to take effect.
        now = time.monotonic()
        if now - self._suspension_checked_at < SUSPENSION_CHECK_S:
            return
        self._suspension_checked_at = now
        if self.connection.exists(WORKERS_SUSPENDED):
            super().check_for_suspension(burst)

    def set_state(self, state, pipeline=None):
        if pipeline is None and state == self._state:
            return  # RQ sets "idle" after every job and again before waiting for the next one
        super().set_state(state, pipeline)

    def beat(self) -> None:
        """The worker's heartbeat alone (the watchdog's, from its thread)."""
        with self.connection.pipeline(transaction=False) as pipeline:
            pipeline.hset(self.key, "last_heartbeat", utcformat(now()))
            pipeline.expire(self.key, self.worker_ttl + 60)
            pipeline.execute()

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
        if (
            pipeline is None
            and timeout is None
            and not outage_log.in_outage
            and time.monotonic() - self._beaten_at < self.worker_ttl / 4
        ):
            return  # RQ beats around every job; a busy worker beats often enough with its jobs
        super().heartbeat(timeout, pipeline)
        if pipeline is None and not self.is_horse:
            self._beaten_at = time.monotonic()
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


def warm_up() -> None:
    """Start clean after the fork from the supervisor (its pooled connections are its own), then
    configure the ORM's mappers once."""
    db.engine.dispose(close=False)
    configure_mappers()


def _install_outage_log() -> None:
    for name in ("rq.worker", "rq.scheduler", "rq.cron"):
        logger = logging.getLogger(name)
        if outage_log not in logger.filters:
            logger.addFilter(outage_log)
        if routine_log not in logger.filters:
            logger.addFilter(routine_log)


def work(
    queue_names: list[str] | None = None,
    *,
    burst: bool = False,
    with_scheduler: bool = True,
    scheduler_name: str | None = None,
    name: str | None = None,
) -> bool:
    """One RQ worker's life (the supervised part of `flask worker`): up to WORKER_MAX_JOBS jobs,
    then it ends so that a fresh one starts (``Recycle``)."""
    _install_outage_log()
    warm_up()
    connection = current_app.extensions["redis"]
    names = queue_names or [spec.name for spec in QUEUES]
    worker = PanelWorker(
        [get_queue(queue, connection) for queue in names],
        connection=connection,
        name=name,
        worker_ttl=current_app.config["WORKER_TTL"],
    )
    worker.scheduler_name = scheduler_name
    # with_scheduler: RQ's own scheduler process runs delayed retries (Retry intervals).
    worked = worker.work(
        burst=burst,
        with_scheduler=with_scheduler,
        logging_level=current_app.config["LOG_LEVEL"],
        max_jobs=None if burst else current_app.config["WORKER_MAX_JOBS"],
    )
    if not burst and not worker.asked_to_stop:
        raise SystemExit(RECYCLED)  # it did its jobs: the supervisor starts a fresh one at once
    return worked


def hand_back_jobs_of(worker_name: str) -> None:
    """The worker of this name died in the middle of a job (killed, or ended by its watchdog):
    what it was running goes again now (panel.jobs.recovery), not after its lease."""
    connection = current_app.extensions["redis"]
    key = WORKER_EXECUTIONS_KEY_TEMPLATE.format(worker_name)
    for composite in connection.smembers(key):
        job_id = composite.decode().rsplit(":", 1)[0]
        try:
            job = Job.fetch(job_id, connection=connection)
        except Exception:  # gone already (its result expired, or Redis lost it: the relay sees to it)
            continue
        hand_back(job)
    connection.delete(key)


def run_worker(queue_names: list[str] | None = None, *, burst: bool = False, with_scheduler: bool = True) -> int:
    if burst:
        work(queue_names, burst=True, with_scheduler=with_scheduler)
        return 0
    supervisor_id = uuid.uuid4().hex  # kept across the worker's restarts

    def name() -> str:  # the current child's: the parent and its child read the same generation
        return f"{supervisor_id}.{supervisor.generation}"

    def before_restart(code: int) -> None:
        if code not in (0, RECYCLED, REDIS_LOST, REDIS_LOST_LOGGED):
            hand_back_jobs_of(name())

    supervisor = Supervisor(
        "worker",
        lambda: work(queue_names, with_scheduler=with_scheduler, scheduler_name=supervisor_id, name=name()),
        current_app.extensions["redis"],
        outage_logged=lambda: outage_log.in_outage,
        on_child_exit=before_restart,
    )
    return supervisor.run()


def schedule() -> None:
    """One cron scheduler's life (the supervised part of `flask scheduler`)."""
    _install_outage_log()
    scheduler = CronScheduler(connection=current_app.extensions["redis"], logging_level=current_app.config["LOG_LEVEL"])
    scheduler.load_config_from_file("panel.jobs.cron_config")
    scheduler.start()


def run_scheduler() -> int:
    return Supervisor("scheduler", schedule, current_app.extensions["redis"]).run()
