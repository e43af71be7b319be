"""The provisioning engine: ``run_operation`` is the only job that talks to platforms, and
``relay`` (under rq cron) makes sure no recorded operation is left behind.

A job carries an operation id and nothing else. It reads the platform's state for the
subscriber, applies only the difference to what the contract wants *now* (so running it twice,
late, or after another one ends in the same place), and records the outcome; see
``panel.domain.operations`` for each state change.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta, timezone

from flask import current_app
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

from panel.domain import DomainError
from panel.domain import operations
from panel.domain.operations import Busy, Work
from panel.domain.platforms import provider_for
from panel.extensions import db
from panel.jobs import circuit
from panel.jobs.queues import QUEUE_SPECS, get_queue, redis_connection
from panel.models import Operation, OperationKind, Platform
from panel.models.types import utcnow
from panel.providers import AccessStatus, PermanentError, Provider, RemoteSubscriber, RetryableError

log = logging.getLogger(__name__)

OPERATION_JOB = "panel.jobs.provisioning.run_operation"
QUEUE = "provisioning"
# A job in one of these states is on its way: enqueuing it again would run it twice.
ON_ITS_WAY = frozenset({JobStatus.QUEUED.value, JobStatus.SCHEDULED.value, JobStatus.STARTED.value,
                        JobStatus.DEFERRED.value})
# When the platform's call slots are all taken, look again after about this long.
SLOT_WAIT_S = 1.0
# A scheduled retry overdue by two relay periods (and at least this) is taken as stuck — no worker
# runs RQ's scheduler, or Redis lost it — and is sent again.
SCHEDULER_LATE_MIN = timedelta(seconds=10)


# -- enqueuing ------------------------------------------------------------------------------

def _job_key(job_id: str) -> str:
    return Job.redis_job_namespace_prefix + job_id


def job_statuses(job_ids: list[str], connection: Redis) -> dict[str, str | None]:
    """Each job's status in Redis (None: Redis does not have it), in one round trip."""
    pipe = connection.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(_job_key(job_id), "status")
    return {job_id: status.decode() if status else None for job_id, status in zip(job_ids, pipe.execute())}


def waiting_jobs(job_ids: list[str], connection: Redis) -> set[str]:
    """Which of these jobs are already queued, scheduled or running."""
    return {job_id for job_id, status in job_statuses(job_ids, connection).items() if status in ON_ITS_WAY}


def send(jobs: list[tuple[int, str]], *, at: datetime | None = None, connection: Redis | None = None) -> int:
    """Enqueue ``run_operation`` for each (operation id, job id), now (``enqueue_many``, one
    pipeline) or at ``at``; a job already on its way is left alone, so sending twice is a no-op.
    Returns how many were enqueued."""
    queue = get_queue(QUEUE, connection)
    connection = queue.connection
    skip = waiting_jobs([job_id for _, job_id in jobs], connection)
    fresh = [(op_id, job_id) for op_id, job_id in jobs if job_id not in skip]
    if not fresh:
        return 0
    spec = QUEUE_SPECS[QUEUE]
    # Kept only when it failed (for the dashboard): the outcome lives on the operation.
    ttls = dict(result_ttl=0, failure_ttl=spec.failure_ttl)
    if at is None:
        queue.enqueue_many([
            Queue.prepare_data(OPERATION_JOB, (op_id,), job_id=job_id, description=f"Operação {op_id}",
                               timeout=spec.job_timeout, **ttls)
            for op_id, job_id in fresh
        ])
    else:
        # RQ's scheduler keeps whole seconds: round up, so a retry never runs before its time
        # (a platform's Retry-After included).
        at = at.replace(microsecond=0) + timedelta(seconds=1) if at.microsecond else at
        for op_id, job_id in fresh:
            queue.enqueue_at(at, OPERATION_JOB, op_id, job_id=job_id, description=f"Operação {op_id}",
                             job_timeout=spec.job_timeout, **ttls)
    return len(fresh)


def _send_later(operation) -> None:
    if operation is not None:
        send([(operation.id, operations.job_id(operation))], at=operation.next_attempt_at)


def _send_now(waiting: list) -> None:
    if waiting:
        send([(operation.id, operations.job_id(operation)) for operation in waiting])


# -- the job --------------------------------------------------------------------------------

def run_operation(operation_id: int) -> str | None:
    """Bring one subscriber at its platform to what its contract wants. Returns a word for the
    job dashboard; everything an operator needs is written on the operation."""
    operation = db.session.get(Operation, operation_id)
    if operation is None or operation.status not in operations.WAITING:
        db.session.rollback()
        return None  # done, failed or running elsewhere: a second delivery
    platform: Platform = operation.subscription.platform
    platform_id, limit, delivery = platform.id, platform.concurrency_limit, operation.deliveries
    db.session.rollback()

    paused_until = circuit.open_until(platform_id)
    if paused_until is not None:
        _send_later(operations.defer(operation_id, delivery, _epoch(paused_until + random.uniform(0, 3))))
        return "circuit-open"
    holder = f"op-{operation_id}-{uuid.uuid4().hex[:8]}"  # this run's own: a duplicate never frees it
    lease = current_app.config["PROVISIONING_LEASE"]
    if not circuit.acquire_slot(platform_id, limit, holder, lease):
        wait = timedelta(seconds=SLOT_WAIT_S * random.uniform(0.5, 1.5))
        _send_later(operations.defer(operation_id, delivery, utcnow() + wait))
        return "no-slot"
    try:
        work = operations.claim(operation_id)
        if work is None:
            return None
        if isinstance(work, Busy):
            # Another operation for the same customer is running: it hands this one on when it
            # ends (and the relay does, should it die).
            _send_later(operations.defer(operation_id, delivery, work.until))
            return "busy"
        return _run(work)
    finally:
        circuit.release_slot(platform_id, holder)


def _epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _run(work: Work) -> str:
    try:
        platform = db.session.get(Platform, work.platform_id)
        with provider_for(platform) as provider:
            db.session.rollback()  # no transaction stays open while the platform answers
            confirmed, remote, answer = converge(provider, work)
    except RetryableError as error:
        if error.status_code != 429:  # a 429 is the platform pacing us, not the platform failing
            circuit.record_failure(work.platform_id, error.message)
        _retry(work, error.message, error.retry_after)
        return "retry"
    except PermanentError as error:
        if error.status_code is not None:  # the platform's refusal is an answer: it is up (ours is not)
            _platform_answered(work.platform_id)
        _send_now(operations.fail(work, error.message))
        return "failed"
    except DomainError as error:  # our side: the token cannot be read, the URL is not allowed
        _send_now(operations.fail(work, error.message))
        return "failed"
    except Exception:
        log.exception("operation %s failed unexpectedly", work.operation_id)
        db.session.rollback()
        _retry(work, "Erro interno ao executar a operação; ele foi registrado.")
        return "retry"
    _platform_answered(work.platform_id)
    _send_now(operations.complete(
        work, confirmed=confirmed, external_id=remote.external_id if remote else None, answer=answer,
    ))
    return "done"


def _platform_answered(platform_id: int) -> None:
    if circuit.record_success(platform_id):  # back after an outage: what waited for it goes now
        _send_now(operations.wake(platform_id))


def _retry(work: Work, message: str, retry_after: float | None = None) -> None:
    again, waiting = operations.retry_later(work, message, retry_after)
    _send_later(again)
    _send_now(waiting)


def converge(provider: Provider, work: Work) -> tuple[AccessStatus | None, RemoteSubscriber | None, str]:
    """Read the subscriber at the platform and apply only what differs. Returns the status the
    platform now holds (None when the operation does not confirm one), the subscriber as it
    stands there, and the answer for the contract history."""
    name = work.platform_name
    if work.kind is OperationKind.update_login:
        remote = provider.get(work.ref)
        if remote is None:
            raise PermanentError(f"O assinante não existe na {name}: use Sincronizar para criá-lo.")
        sent = []
        if "email" in work.fields and remote.email != work.data.email:
            remote = provider.change_login(remote, username=work.data.email, email=work.data.email)
            sent.append("e-mail e usuário")
        if "document" in work.fields:
            provider.change_password(remote, work.data.document)
            sent.append("senha")
        what = " e ".join(sent) if sent else "nada (a plataforma já tinha estes dados)"
        return None, remote, f"{name} atualizou o login: {what}."
    if work.shared_with_contract is not None:
        return work.desired, None, (
            f"Nada enviado: o assinante na {name} agora atende o contrato {work.shared_with_contract} deste cliente."
        )
    remote = provider.get(work.ref)
    if remote is None:
        if work.desired is AccessStatus.CANCELLED:
            return work.desired, None, f"{name} não tem este assinante: nada a cancelar."
        remote = provider.create(work.data, work.desired)
        return work.desired, remote, f"{name} criou o assinante: {_platform_words(remote, work.desired)}."
    login = ""
    if provider.has_login and work.desired is not AccessStatus.CANCELLED and remote.email != work.data.email:
        # The customer was there already with other login data (a client's new contract taking
        # over the customer of a cancelled one, or an edit at the platform): the seed's login wins.
        remote = provider.change_login(remote, username=work.data.email, email=work.data.email)
        login = " Login atualizado para o e-mail do cliente."
    if provider.matches(remote, work.desired, work.plan):
        return work.desired, remote, (
            f"{name} já estava assim: {_platform_words(remote, work.desired)}; nada enviado.{login}" if not login
            else f"{name} confirmou: {_platform_words(remote, work.desired)}.{login}"
        )
    remote = provider.set_status(remote, work.desired, work.plan)
    return work.desired, remote, f"{name} confirmou: {_platform_words(remote, work.desired)}.{login}"


def _platform_words(remote: RemoteSubscriber, status: AccessStatus) -> str:
    """How the platform holds the subscriber, in our words and its own: "ativo (ACTIVE, produto X)"."""
    own = remote.platform_status
    if remote.products:
        own += (", produto " if len(remote.products) == 1 else ", produtos ") + ", ".join(remote.products)
    return f"{status.label.lower()} ({own})"


def hand_back(operation_id: int) -> None:
    """The work horse running this operation died (RQ says so): it goes again now, instead of
    after its lease (or fails, had that been its last attempt)."""
    _send_now(operations.requeue_lost(operation_ids=[operation_id]))
    db.session.remove()


# -- the relay ------------------------------------------------------------------------------

def relay() -> dict[str, int]:
    """Every operation recorded and not finished ends up on the queue: re-queues runs whose
    worker died (lease over) and sends again what is missing from Redis (emptied, or an
    enqueue that failed after the commit)."""
    connection = redis_connection()
    lost = operations.requeue_lost()
    _send_now(lost)
    due = operations.due_for_relay()
    missing = []
    if due:
        found = job_statuses([operations.job_id(op) for op in due], connection)
        late = utcnow() - max(SCHEDULER_LATE_MIN, timedelta(seconds=2 * current_app.config["RELAY_INTERVAL"]))
        missing = [op for op in due if found[operations.job_id(op)] not in ON_ITS_WAY or (
            # a retry whose time passed long ago: no scheduler is moving it to the queue
            found[operations.job_id(op)] == JobStatus.SCHEDULED.value and op.next_attempt_at is not None
            and op.next_attempt_at < late
        )]
    resent = operations.resend(missing) if missing else []
    _send_now(resent)
    db.session.rollback()
    if lost or resent:
        log.info("relay: %d lost run(s) re-queued, %d operation(s) sent again", len(lost), len(resent))
    return {"lost": len(lost), "resent": len(resent)}
