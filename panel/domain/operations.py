"""Operations: the outbox of requests to the platforms, and every change of their state.

An operation is recorded with the desired state that asks for it (``contracts.act``), handed
to the queue after that commit (``submit``), taken up by a worker (``claim``), and ends *done*
(``complete``) or *failed* (``fail``); a retryable failure waits and goes again
(``retry_later``), a worker that died is noticed by its lease (``requeue_lost``, from the relay).
Each of these is one short transaction here; the platform calls happen between them, in
``panel.jobs.provisioning``, with no transaction open.

Operations on one subscriber run one at a time: ``claim`` holds the subscriber's row while it
checks that no other operation of it is running, and gives way to it when one is.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from redis import RedisError
from sqlalchemy import func, or_, select, update

from panel.domain.common import Actor, DomainError, lock_row
from panel.domain.platforms import adapter
from panel.extensions import db
from panel.models import Client, Contract, Operation, OperationKind, OperationStatus, Platform, Subscription
from panel.models.types import utcnow
from panel.providers import AccessStatus, PlanProducts, SubscriberData, SubscriberRef

log = logging.getLogger(__name__)

SYSTEM = Actor.system("Sistema")
UNFINISHED = (OperationStatus.pending.value, OperationStatus.queued.value, OperationStatus.running.value)
WAITING = (OperationStatus.pending.value, OperationStatus.queued.value)
# The relay leaves alone what was queued moments ago: its job is most likely on its way.
RELAY_GRACE = timedelta(seconds=5)
RELAY_BATCH = 1000


def job_id(operation: Operation) -> str:
    """The id of the job that carries the operation now: ``op-<id>`` the first time, then one
    more suffix number each time it is handed to the queue again. Enqueuing the same job twice
    is a no-op (see ``panel.jobs.provisioning.send``)."""
    return f"op-{operation.id}" if not operation.deliveries else f"op-{operation.id}-{operation.deliveries}"


# -- handing operations to the workers --------------------------------------------------------

def submit(operations: Iterable[Operation | None]) -> None:
    """After the commit that recorded them: hand the operations to the workers (the fast path).
    When Redis does not answer they stay *pending*; the relay sends them when it is back."""
    from panel.jobs.provisioning import send

    pending = [op for op in operations if op is not None]
    if not pending:
        return
    try:
        send([(op.id, job_id(op)) for op in pending])
    except RedisError:
        log.warning("could not enqueue %d operation(s); the relay will send them", len(pending))
        return
    db.session.execute(
        update(Operation)
        .where(Operation.id.in_([op.id for op in pending]), Operation.status == OperationStatus.pending.value)
        .values(status=OperationStatus.queued.value, updated_at=utcnow())
    )
    db.session.commit()


def _resend(operation: Operation, at: datetime | None) -> None:
    """In the caller's transaction: the operation goes to the queue again, as a new job."""
    operation.status = OperationStatus.queued.value
    operation.next_attempt_at = at
    operation.lease_until = None
    operation.deliveries += 1


# -- the worker's side ----------------------------------------------------------------------

@dataclass(frozen=True)
class Work:
    """What a worker needs to run one claimed operation, read in the claim's transaction (no
    database object crosses the platform calls)."""

    operation_id: int
    attempt: int
    kind: OperationKind
    subscription_id: int
    platform_id: int
    platform_name: str
    desired: AccessStatus
    data: SubscriberData = field(repr=False)
    external_id: str | None
    fields: tuple[str, ...] = ()  # login data that changed (update_login)
    # Another contract of ours holds the same customer at the platform (ITTV finds customers by
    # CPF: a client's new contract takes over the customer of the cancelled one).
    shared_with_contract: int | None = None
    # The subscribers whose operations run one at a time with this one (see ``claim``).
    group: tuple[int, ...] = ()

    @property
    def plan(self) -> PlanProducts:
        return self.data.plan

    @property
    def ref(self) -> SubscriberRef:
        return SubscriberRef(self.data.external_ref, self.data.document, self.external_id)


@dataclass(frozen=True)
class Busy:
    """Another operation for the same customer is running; this one waits for it."""

    until: datetime


def subscriber_data(subscription: Subscription) -> SubscriberData:
    """What the platform may need of the subscriber: the client's data, the contract's packages,
    and the seed's login (e-mail and document)."""
    from panel.domain.contracts import contract_products  # contracts build on operations

    contract, client = subscription.contract, subscription.contract.client
    return SubscriberData(
        external_ref=subscription.external_ref, name=client.name, document=client.document, email=client.email,
        plan=contract_products(contract), phone=client.phone,
        zipcode=client.zipcode, street=client.street, number=client.number, complement=client.complement,
        city=client.city, state=client.state, username=client.email, password=client.document,
    )


def claim(operation_id: int) -> Work | Busy | None:
    """Take the operation up for this worker: it becomes *running*, one more attempt, with a
    lease. None when there is nothing to do (done, failed, running elsewhere, or a retry not yet
    due: a job delivered twice stops here)."""
    db.session.rollback()  # start from a fresh transaction: the checks below must see the latest rows
    now = utcnow()
    found = db.session.execute(
        select(Operation.subscription_id, Subscription.platform_id, Contract.client_id, Platform.kind)
        .join(Operation.subscription).join(Subscription.contract).join(Subscription.platform)
        .where(Operation.id == operation_id, Operation.status.in_(WAITING))
    ).first()
    if found is None:
        return None
    subscription_id, platform_id, client_id, kind = found
    # Operations that reach the same customer at the platform run one after the other: one
    # subscriber's, or at a platform that knows one customer per client (ITTV, by CPF) every
    # subscriber of the client there (a new contract takes over the customer of a cancelled one).
    per_client = adapter(kind).one_contract_per_client
    if per_client:
        lock_row(Client, client_id)
    else:
        lock_row(Subscription, subscription_id)
    group = _group(subscription_id, platform_id, client_id if per_client else None)
    operation = db.session.get(Operation, operation_id, populate_existing=True)
    if operation.status not in WAITING or (
        operation.next_attempt_at is not None and operation.next_attempt_at > now + timedelta(seconds=1)
    ):
        db.session.rollback()
        return None
    running_until = db.session.scalar(
        select(Operation.lease_until).where(
            Operation.subscription_id.in_(group), Operation.status == OperationStatus.running.value,
            Operation.lease_until > now, Operation.id != operation_id,
        ).order_by(Operation.lease_until)
    )
    if running_until is not None:
        db.session.rollback()
        return Busy(running_until)
    operation.status = OperationStatus.running.value
    operation.attempts += 1
    operation.started_at = now
    operation.lease_until = now + timedelta(seconds=current_app.config["PROVISIONING_LEASE"])
    operation.next_attempt_at = None
    subscription = db.session.get(Subscription, subscription_id, populate_existing=True)
    platform = subscription.platform
    desired = AccessStatus(subscription.desired_status)
    shared = None
    if per_client and subscription.exclusive_client_id is None:
        # This contract was cancelled; if another contract of the client is synced there now,
        # the customer is that one's, and this operation must not touch it.
        shared = db.session.scalar(select(Subscription.contract_id).where(
            Subscription.platform_id == platform_id, Subscription.exclusive_client_id == client_id,
        ))
    data = subscriber_data(subscription)
    work = Work(
        operation_id=operation.id, attempt=operation.attempts, kind=operation.kind_enum,
        subscription_id=subscription.id, platform_id=platform.id, platform_name=platform.name,
        desired=desired, data=data, external_id=subscription.external_id,
        group=tuple(group),
        fields=tuple((operation.details or {}).get("fields", ())), shared_with_contract=shared,
    )
    db.session.commit()
    return work


def _group(subscription_id: int, platform_id: int, client_id: int | None) -> list[int]:
    if client_id is None:
        return [subscription_id]
    return list(db.session.scalars(select(Subscription.id).join(Subscription.contract).where(
        Subscription.platform_id == platform_id, Contract.client_id == client_id,
    )))


def _running(work: Work) -> tuple[Operation, Subscription] | None:
    """In a new transaction, with the subscriber's row held: the operation, if it is still this
    worker's (the relay re-queues a run whose lease ran out; its late answer is then dropped)."""
    db.session.rollback()
    lock_row(Subscription, work.subscription_id)
    operation = db.session.get(Operation, work.operation_id, populate_existing=True)
    if operation is None or operation.status != OperationStatus.running.value or operation.attempts != work.attempt:
        db.session.rollback()
        log.warning("operation %s attempt %s lost its lease; its result is dropped", work.operation_id, work.attempt)
        return None
    return operation, db.session.get(Subscription, work.subscription_id, populate_existing=True)


def _next_waiting(subscription_ids: Iterable[int]) -> list[Operation]:
    """In the caller's transaction: the operations that wait for these subscribers (for the one
    just finished, or for a retry) go now, each as a new job; the platform just answered."""
    waiting = list(db.session.scalars(select(Operation).where(
        Operation.subscription_id.in_(list(subscription_ids)), Operation.status.in_(WAITING),
    ).order_by(Operation.id)))
    for operation in waiting:
        _resend(operation, None)
    return waiting


def _history(operation: Operation, subscription: Subscription, asked: str, answer: str) -> None:
    from panel.domain.contracts import add_event

    add_event(subscription.contract, SYSTEM, "platform_answer", asked, operation=operation, answer=answer,
              audited=False)


def _what(operation: Operation) -> str:
    """What the operation asked, e.g. "Alterar situação (bloqueio total)"."""
    target = f" ({AccessStatus(operation.target_status).label.lower()})" if operation.target_status and \
        operation.kind_enum is not OperationKind.update_login else ""
    return f"{operation.kind_enum.label}{target}"


def _finish(operation: Operation, subscription: Subscription, status: OperationStatus, answer: str) -> None:
    """In the caller's transaction: the operation ends (done with the platform's answer, or failed
    with the reason, which the subscriber's row shows too) and the contract history says so."""
    operation.status = status.value
    operation.finished_at = utcnow()
    operation.lease_until = None
    if status is OperationStatus.failed:
        operation.last_error = subscription.last_error = answer
    platform = subscription.platform.name
    asked = (f"Falha na operação {operation.id} ({_what(operation)}) na {platform}." if status is OperationStatus.failed
             else f"Resposta da {platform} à operação {operation.id} ({_what(operation)}).")
    _history(operation, subscription, asked, answer)


def complete(work: Work, *, confirmed: AccessStatus | None, external_id: str | None, answer: str) -> list[Operation]:
    """The platform holds ``confirmed`` (None: nothing to confirm, e.g. a login update): record it
    with the result and a history line, in one transaction. Returns the subscriber's operations
    that were waiting for this one (to be sent now)."""
    held = _running(work)
    if held is None:
        return []
    operation, subscription = held
    now = utcnow()
    if confirmed is not None:
        subscription.remote_status = confirmed.value
        subscription.confirmed_at = now
    if external_id:
        subscription.external_id = external_id
    subscription.last_error = None
    operation.result = answer
    _finish(operation, subscription, OperationStatus.done, answer)
    waiting = _next_waiting(work.group or [subscription.id])
    db.session.commit()
    return waiting


def fail(work: Work, message: str) -> list[Operation]:
    """The operation failed for good: the message goes on the operation, the subscriber (its
    row shows it) and the contract history."""
    held = _running(work)
    if held is None:
        return []
    operation, subscription = held
    _finish(operation, subscription, OperationStatus.failed, message)
    waiting = _next_waiting(work.group or [subscription.id])
    db.session.commit()
    return waiting


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt: exponential from PROVISIONING_RETRY_BASE, capped at
    PROVISIONING_RETRY_MAX, with ±20 % jitter (so retries of many operations spread out), and
    never sooner than the platform's Retry-After."""
    config = current_app.config
    delay = min(config["PROVISIONING_RETRY_BASE"] * 2 ** max(attempt - 1, 0), config["PROVISIONING_RETRY_MAX"])
    delay *= random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)


def retry_later(work: Work, message: str, retry_after: float | None = None) -> tuple[Operation | None, list[Operation]]:
    """A retryable failure: the operation waits (backoff) and goes again; after the last
    attempt it fails. Returns the operation to send again at its ``next_attempt_at`` (None when
    it failed or is no longer this worker's), and the subscriber's operations that waited for
    it, to send now."""
    max_attempts = current_app.config["PROVISIONING_MAX_ATTEMPTS"]
    if work.attempt >= max_attempts:
        return None, fail(work, f"{message} (desistiu após {work.attempt} tentativas)")
    held = _running(work)
    if held is None:
        return None, []
    operation, subscription = held
    operation.last_error = message
    subscription.last_error = message
    waiting = [op for op in _next_waiting(work.group or [subscription.id]) if op.id != operation.id]
    _resend(operation, utcnow() + timedelta(seconds=backoff(work.attempt, retry_after)))
    db.session.commit()
    return operation, waiting


def defer(operation_id: int, deliveries: int, until: datetime) -> Operation | None:
    """Not now (the platform's circuit is open, its call slots are taken, or another operation of
    the subscriber is running): the operation waits until ``until`` without spending an attempt.
    ``deliveries`` is the job's: if the operation was handed on meanwhile (by the operation it
    waited for, or the relay), that newer job runs it and nothing changes here."""
    db.session.rollback()
    deferred = db.session.execute(
        update(Operation).where(
            Operation.id == operation_id, Operation.deliveries == deliveries, Operation.status.in_(WAITING),
        ).values(status=OperationStatus.queued.value, next_attempt_at=until, lease_until=None,
                 deliveries=Operation.deliveries + 1, updated_at=utcnow())
    ).rowcount
    db.session.commit()
    return db.session.get(Operation, operation_id) if deferred else None


# -- the relay ------------------------------------------------------------------------------

def requeue_lost(now: datetime | None = None, operation_ids: list[int] | None = None) -> list[Operation]:
    """Running operations whose lease ran out (their worker died) — or, given ``operation_ids``,
    these ones, whose worker is known to have died: they go again, or fail when they have had
    every attempt. Returns those to send. Each change is guarded by the attempt it saw, so a
    worker finishing at that very moment keeps its result."""
    now = now or utcnow()
    max_attempts = current_app.config["PROVISIONING_MAX_ATTEMPTS"]
    expired = Operation.id.in_(operation_ids) if operation_ids is not None else Operation.lease_until < now
    lost = list(db.session.execute(select(Operation.id, Operation.attempts).where(
        Operation.status == OperationStatus.running.value, expired,
    ).order_by(Operation.id).limit(RELAY_BATCH)))
    again = []
    for operation_id, attempt in lost:
        message = (f"O worker parou durante a tentativa {attempt} (sem resposta até o fim do prazo)."
                   if operation_ids is None else f"O processo que executava a tentativa {attempt} parou inesperadamente.")
        if attempt >= max_attempts:
            message += " Limite de tentativas atingido."
            values = dict(status=OperationStatus.failed.value, finished_at=now, last_error=message)
        else:
            values = dict(status=OperationStatus.queued.value, next_attempt_at=now, last_error=message + " Nova tentativa.",
                          deliveries=Operation.deliveries + 1)
        taken = db.session.execute(update(Operation).where(
            Operation.id == operation_id, Operation.status == OperationStatus.running.value,
            Operation.attempts == attempt, expired,
        ).values(lease_until=None, updated_at=now, **values)).rowcount
        if not taken:
            continue
        operation = db.session.get(Operation, operation_id, populate_existing=True)
        if operation.status == OperationStatus.failed.value:
            _finish(operation, operation.subscription, OperationStatus.failed, message)
        else:
            again.append(operation)
    db.session.commit()
    return again


def due_for_relay(now: datetime | None = None) -> list[Operation]:
    """Operations that should be on the queue now (pending, or queued and due) and were not
    touched in the last moments: the relay checks each is really there."""
    now = now or utcnow()
    cutoff = now - RELAY_GRACE
    return list(db.session.scalars(select(Operation).where(
        Operation.status.in_(WAITING),
        or_(Operation.next_attempt_at.is_(None), Operation.next_attempt_at <= cutoff),
        Operation.updated_at <= cutoff,
    ).order_by(Operation.id).limit(RELAY_BATCH)))


def resend(operations: list[Operation]) -> list[Operation]:
    """The relay found these missing from the queue: each goes again as a new job (a guarded
    update, so two relays at once send it once)."""
    now = utcnow()
    sent = []
    for operation in operations:
        claimed = db.session.execute(
            update(Operation).where(
                Operation.id == operation.id, Operation.deliveries == operation.deliveries,
                Operation.status.in_(WAITING),
            ).values(deliveries=Operation.deliveries + 1, status=OperationStatus.queued.value, updated_at=now,
                     next_attempt_at=None)
        ).rowcount
        if claimed:
            sent.append(operation.id)
    db.session.commit()
    return list(db.session.scalars(select(Operation).where(Operation.id.in_(sent)))) if sent else []


# -- the operator's side --------------------------------------------------------------------

def retry(actor: Actor, operation: Operation) -> Operation:
    """*Tentar novamente*: a failed operation goes again from its first attempt (after the
    operator fixed what the platform refused, for instance)."""
    lock_row(Subscription, operation.subscription_id)
    db.session.refresh(operation)
    if operation.status != OperationStatus.failed.value:
        raise DomainError("Só é possível tentar de novo uma operação que falhou.")
    if operation.id not in latest_ids([operation.subscription_id]):
        raise DomainError("Um pedido mais recente deste assinante já substituiu esta operação: não há o que "
                          "tentar de novo.")
    from panel.domain.contracts import add_event

    operation.status = OperationStatus.pending.value
    operation.attempts = 0
    operation.next_attempt_at = None
    operation.finished_at = None
    operation.deliveries += 1
    contract = operation.subscription.contract
    db.session.flush()
    add_event(contract, actor, "retry",
              f"Tentar novamente a operação {operation.id} ({_what(operation)}) na "
              f"{operation.subscription.platform.name}.", operation=operation)
    db.session.commit()
    submit([operation])
    return operation


def latest_ids_query(subscription_ids: list[int]):
    """The ids of these subscribers' latest operations, as a query to run or to nest."""
    return (select(func.max(Operation.id)).where(Operation.subscription_id.in_(subscription_ids))
            .group_by(Operation.subscription_id))


def latest_ids(subscription_ids: Iterable[int]) -> set[int]:
    """The latest operation of each of these subscribers (the only one *Tentar novamente* may
    send again: an older one was replaced by what came after it)."""
    ids = list(subscription_ids)
    return set(db.session.scalars(latest_ids_query(ids))) if ids else set()


def recent_of(subscription_id: int, limit: int = 3) -> list[Operation]:
    """A subscriber's latest operations, newest first (its page shows a few, never all)."""
    return list(db.session.scalars(select(Operation).where(Operation.subscription_id == subscription_id)
                                   .order_by(Operation.id.desc()).limit(limit)))


def wake(platform_id: int) -> list[Operation]:
    """The platform answers again after failing: its operations waiting for a later try (paused
    by the circuit, or backing off) go now, each as a new job. Returns those to send."""
    now = utcnow()
    waiting = list(db.session.scalars(select(Operation).join(Operation.subscription).where(
        Subscription.platform_id == platform_id, Operation.status == OperationStatus.queued.value,
        Operation.next_attempt_at > now,
    ).order_by(Operation.id).limit(RELAY_BATCH)))
    for operation in waiting:
        _resend(operation, None)
    db.session.commit()
    return waiting


def describe(operation: Operation) -> str:
    """One line for operators: where the request is, and what happened to it."""
    from panel.templating import local_datetime

    status = operation.status_enum
    max_attempts = current_app.config["PROVISIONING_MAX_ATTEMPTS"]
    if status is OperationStatus.done:
        return f"Concluída: {operation.result}" if operation.result else "Concluída"
    if status is OperationStatus.failed:
        return f"Falhou: {operation.last_error}" if operation.last_error else "Falhou"
    if status is OperationStatus.running:
        return f"Em execução (tentativa {operation.attempts} de {max_attempts})" if operation.attempts > 1 \
            else "Em execução"
    if operation.next_attempt_at is not None and operation.next_attempt_at > utcnow():
        when = local_datetime(operation.next_attempt_at, "%H:%M:%S")
        if operation.last_error:
            return (f"Nova tentativa às {when} (tentativa {operation.attempts + 1} de {max_attempts}): "
                    f"{operation.last_error}")
        return f"Na fila, para as {when}"
    if status is OperationStatus.pending:
        return "Pendente (aguardando envio à fila)"
    return "Na fila"


def recent(*, status: str | None = None, platform_id: int | None = None, kind: str | None = None,
           contract_id: int | None = None, before_id: int | None = None, limit: int = 50) -> list[Operation]:
    """The *Operações* page: newest first, keyset-paged. ``status``: pending (not finished),
    failed, done, or None for all."""
    query = select(Operation).order_by(Operation.id.desc()).limit(limit)
    if status == "pending":
        query = query.where(Operation.status.in_(UNFINISHED))
    elif status in (OperationStatus.failed.value, OperationStatus.done.value):
        query = query.where(Operation.status == status)
    if kind:
        query = query.where(Operation.kind == kind)
    if platform_id is not None or contract_id is not None:
        query = query.join(Operation.subscription)
        if platform_id is not None:
            query = query.where(Subscription.platform_id == platform_id)
        if contract_id is not None:
            query = query.where(Subscription.contract_id == contract_id)
    if before_id is not None:
        query = query.where(Operation.id < before_id)
    return list(db.session.scalars(query))

