"""The worker's side of an operation (panel.jobs.provisioning runs it): take it up (``claim``),
then record how it ended — done with the platform's answer (``complete``), failed (``fail``), or
to be tried again later (``retry_later``) — each a short change between the platform calls (the
job commits each one; no transaction stays open while a platform answers).

Operations that reach the same customer at the platform run one at a time: ``claim`` holds the
subscriber's row (at ITTV, which keeps one customer per CPF, the client's row) while it checks
that no other operation of it is running, and gives way to it when one is; when an operation
ends, the ones waiting for it go at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from panel.domain import outbox
from panel.domain.common import Actor, lock_row
from panel.domain.history import add_event
from panel.domain.kinds import kind_of
from panel.domain.vocabulary import AccessStatus, PlanProducts, SubscriberData, SubscriberRef
from panel.extensions import db
from panel.models import Client, Contract, Operation, OperationKind, OutboxStatus, Platform, Subscription
from panel.models.outbox import WAITING
from panel.models.types import utcnow

log = logging.getLogger(__name__)

SYSTEM = Actor.system("Sistema")


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
    platform_kind: str
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


def contract_products(contract: Contract) -> PlanProducts:
    """The packages this contract gives at its platform (its own copy of the plan's)."""
    return PlanProducts(tuple(contract.product_codes), tuple(contract.base_codes))


def subscriber_data(subscription: Subscription) -> SubscriberData:
    """What the platform may need of the subscriber: the client's data, the contract's packages,
    and the seed's login (e-mail and document)."""
    contract, client = subscription.contract, subscription.contract.client
    return SubscriberData(
        external_ref=subscription.external_ref,
        name=client.name,
        document=client.document,
        email=client.email,
        plan=contract_products(contract),
        phone=client.phone,
        zipcode=client.zipcode,
        street=client.street,
        number=client.number,
        complement=client.complement,
        city=client.city,
        state=client.state,
        username=client.email,
        password=client.document,
    )


def claim(operation_id: int) -> Work | Busy | None:
    """Take the operation up for this worker: it becomes *running*, one more attempt, with a
    lease. None when there is nothing to do (done, failed, running elsewhere, or a retry not yet
    due: a job delivered twice stops here). Run it in a fresh transaction: the checks must see
    the latest rows."""
    now = utcnow()
    found = db.session.execute(
        select(Operation.subscription_id, Subscription.platform_id, Contract.client_id, Platform.kind)
        .join(Operation.subscription)
        .join(Subscription.contract)
        .join(Subscription.platform)
        .where(Operation.id == operation_id, Operation.status.in_(WAITING))
    ).first()
    if found is None:
        return None
    subscription_id, platform_id, client_id, kind = found
    # Operations that reach the same customer at the platform run one after the other: one
    # subscriber's, or at a platform that knows one customer per client (ITTV, by CPF) every
    # subscriber of the client there (a new contract takes over the customer of a cancelled one).
    per_client = kind_of(kind).one_contract_per_client
    if per_client:
        lock_row(Client, client_id)
    else:
        lock_row(Subscription, subscription_id)
    group = _group(subscription_id, platform_id, client_id if per_client else None)
    operation = db.session.get(Operation, operation_id, populate_existing=True)
    if operation.status not in WAITING or (
        operation.next_attempt_at is not None and operation.next_attempt_at > now + timedelta(seconds=1)
    ):
        return None
    running_until = db.session.scalar(
        select(Operation.lease_until)
        .where(
            Operation.subscription_id.in_(group),
            Operation.status == OutboxStatus.running,
            Operation.lease_until > now,
            Operation.id != operation_id,
        )
        .order_by(Operation.lease_until)
    )
    if running_until is not None:
        return Busy(running_until)
    outbox.take(operation, current_app.config["PROVISIONING_LEASE"], now)
    subscription = db.session.get(Subscription, subscription_id, populate_existing=True)
    platform = subscription.platform
    shared = None
    if per_client and subscription.exclusive_client_id is None:
        # This contract was cancelled; if another contract of the client is synced there now,
        # the customer is that one's, and this operation must not touch it.
        shared = db.session.scalar(
            select(Subscription.contract_id).where(
                Subscription.platform_id == platform_id,
                Subscription.exclusive_client_id == client_id,
            )
        )
    work = Work(
        operation_id=operation.id,
        attempt=operation.attempts,
        kind=operation.kind,
        subscription_id=subscription.id,
        platform_id=platform.id,
        platform_name=platform.name,
        platform_kind=platform.kind,
        desired=AccessStatus(subscription.desired_status),
        data=subscriber_data(subscription),
        external_id=subscription.external_id,
        group=tuple(group),
        fields=tuple((operation.details or {}).get("fields", ())),
        shared_with_contract=shared,
    )
    db.session.flush()
    return work


def _group(subscription_id: int, platform_id: int, client_id: int | None) -> list[int]:
    if client_id is None:
        return [subscription_id]
    return list(
        db.session.scalars(
            select(Subscription.id)
            .join(Subscription.contract)
            .where(
                Subscription.platform_id == platform_id,
                Contract.client_id == client_id,
            )
        )
    )


def _running(work: Work) -> tuple[Operation, Subscription] | None:
    """With the subscriber's row held: the operation, if it is still this worker's (the relay
    re-queues a run whose lease ran out; its late answer is then dropped)."""
    lock_row(Subscription, work.subscription_id)
    operation = db.session.get(Operation, work.operation_id, populate_existing=True)
    if operation is None or operation.status != OutboxStatus.running or operation.attempts != work.attempt:
        log.warning("operation %s attempt %s lost its lease; its result is dropped", work.operation_id, work.attempt)
        return None
    return operation, db.session.get(Subscription, work.subscription_id, populate_existing=True)


def _next_waiting(subscription_ids: Iterable[int]) -> list[Operation]:
    """The operations that wait for these subscribers (for the one just finished, or for a
    retry) go now, each as a new job: the platform just answered."""
    waiting = list(
        db.session.scalars(
            select(Operation)
            .where(
                Operation.subscription_id.in_(list(subscription_ids)),
                Operation.status.in_(WAITING),
            )
            .order_by(Operation.id)
        )
    )
    for operation in waiting:
        outbox.redeliver(operation)
    return waiting


def asked_words(operation: Operation) -> str:
    """What the operation asked, e.g. "Alterar situação (bloqueio total)"."""
    target = (
        f" ({AccessStatus(operation.target_status).label.lower()})"
        if operation.target_status and operation.kind is not OperationKind.update_login
        else ""
    )
    return f"{operation.kind.label}{target}"


def _finish(operation: Operation, subscription: Subscription, status: OutboxStatus, answer: str) -> None:
    """The operation ends (done with the platform's answer, or failed with the reason, which the
    subscriber's row shows too) and the contract history says so."""
    outbox.end(operation, status)
    if status is OutboxStatus.failed:
        operation.last_error = subscription.last_error = answer
    platform = subscription.platform.name
    asked = (
        f"Falha na operação {operation.id} ({asked_words(operation)}) na {platform}."
        if status is OutboxStatus.failed
        else f"Resposta da {platform} à operação {operation.id} ({asked_words(operation)})."
    )
    add_event(
        subscription.contract, SYSTEM, "platform_answer", asked, operation=operation, answer=answer, audited=False
    )


def complete(work: Work, *, confirmed: AccessStatus | None, external_id: str | None, answer: str) -> bool:
    """The platform holds ``confirmed`` (None: nothing to confirm, e.g. a login update): record it
    with the result and a history line; the operations that waited for this one go now. False
    when the run was no longer this worker's."""
    held = _running(work)
    if held is None:
        return False
    operation, subscription = held
    if confirmed is not None:
        subscription.remote_status = confirmed.value
        subscription.confirmed_at = utcnow()
    if external_id:
        subscription.external_id = external_id
    subscription.last_error = None
    operation.result = answer
    _finish(operation, subscription, OutboxStatus.done, answer)
    _next_waiting(work.group or [subscription.id])
    return True


def fail(work: Work, message: str) -> bool:
    """The operation failed for good: the message goes on the operation, the subscriber (its
    row shows it) and the contract history."""
    held = _running(work)
    if held is None:
        return False
    operation, subscription = held
    _finish(operation, subscription, OutboxStatus.failed, message)
    _next_waiting(work.group or [subscription.id])
    return True


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt: exponential from PROVISIONING_RETRY_BASE, capped at
    PROVISIONING_RETRY_MAX, with ±20 % jitter (so retries of many operations spread out), and
    never sooner than the platform's Retry-After."""
    config = current_app.config
    delay = min(config["PROVISIONING_RETRY_BASE"] * 2 ** max(attempt - 1, 0), config["PROVISIONING_RETRY_MAX"])
    delay *= random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)


def retry_later(work: Work, message: str, retry_after: float | None = None) -> None:
    """A retryable failure: the operation waits (backoff) and goes again; after the last
    attempt it fails. The subscriber's operations that waited for it go now."""
    max_attempts = current_app.config["PROVISIONING_MAX_ATTEMPTS"]
    if work.attempt >= max_attempts:
        fail(work, f"{message} (desistiu após {work.attempt} tentativas)")
        return
    held = _running(work)
    if held is None:
        return
    operation, subscription = held
    operation.last_error = message
    subscription.last_error = message
    _next_waiting(work.group or [subscription.id])  # (not this one: it is running)
    outbox.redeliver(operation, utcnow() + timedelta(seconds=backoff(work.attempt, retry_after)))


def defer(operation_id: int, deliveries: int, until: datetime) -> None:
    """Not now: see ``outbox.defer``."""
    outbox.defer(Operation, operation_id, deliveries, until)


def wake(platform_id: int) -> list[Operation]:
    """The platform answers again after failing: its operations waiting for a later try (paused
    by the circuit, or backing off) go now, each as a new job."""
    now = utcnow()
    waiting = list(
        db.session.scalars(
            select(Operation)
            .join(Operation.subscription)
            .where(
                Subscription.platform_id == platform_id,
                Operation.status == OutboxStatus.queued,
                Operation.next_attempt_at > now,
            )
            .order_by(Operation.id)
            .limit(outbox.RELAY_BATCH)
        )
    )
    for operation in waiting:
        outbox.redeliver(operation)
    return waiting


def requeue_lost(now: datetime | None = None, operation_ids: list[int] | None = None) -> list[Operation]:
    """Running operations whose lease ran out (their worker died) — or, given ``operation_ids``,
    these ones, whose worker is known to have died: they go again, or fail (with a history line)
    when they have had every attempt. Returns those sent again."""
    max_attempts = current_app.config["PROVISIONING_MAX_ATTEMPTS"]
    again, failed = outbox.lost_runs(Operation, max_attempts, now=now, row_ids=operation_ids)
    for operation in [*again, *failed]:
        attempt = operation.attempts
        message = (
            f"O worker parou durante a tentativa {attempt} (sem resposta até o fim do prazo)."
            if operation_ids is None
            else f"O processo que executava a tentativa {attempt} parou inesperadamente."
        )
        if operation in failed:
            _finish(operation, operation.subscription, OutboxStatus.failed, message + " Limite de tentativas atingido.")
        else:
            operation.last_error = message + " Nova tentativa."
    return again
