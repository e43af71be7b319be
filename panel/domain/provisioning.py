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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from panel.domain import outbox, words
from panel.domain.common import Actor, lock_row
from panel.domain.history import add_answer
from panel.domain.kinds import kind_of
from panel.domain.products import names_by_code
from panel.domain.vocabulary import AccessStatus, PlanProducts, SubscriberData, SubscriberRef
from panel.extensions import db
from panel.models import Client, Contract, Operation, OperationKind, OutboxStatus, Platform, Subscription
from panel.models.outbox import WAITING
from panel.models.types import utcnow

log = logging.getLogger(__name__)

SYSTEM = Actor.system("Sistema")


@dataclass(frozen=True)
class PlatformAccess:
    """A platform account as a worker calls it (the token still encrypted: only the jobs layer
    decrypts it, right before the calls)."""

    id: int
    kind: str
    name: str
    server_url: str
    token_ciphertext: str


@dataclass(frozen=True)
class Ticket:
    """What running an operation needs to know before it is claimed (which platform's circuit
    and call slots it waits on, which customer it locks), read in one statement. None of these
    change during an operation's life."""

    operation_id: int
    deliveries: int
    subscription_id: int
    client_id: int
    platform_id: int
    concurrency_limit: int
    per_client: bool  # the platform knows one customer per client (ITTV): the client's row is the lock


@dataclass(frozen=True)
class Work:
    """What a worker needs to run one claimed operation, read in the claim's transaction (no
    database object crosses the platform calls)."""

    operation_id: int
    attempt: int
    kind: OperationKind
    target_status: str | None
    subscription_id: int
    contract_id: int
    client_id: int
    per_client: bool
    platform: PlatformAccess
    desired: AccessStatus
    data: SubscriberData = field(repr=False)
    external_id: str | None
    fields: tuple[str, ...] = ()  # login data that changed (update_login)
    # Another contract of ours holds the same customer at the platform (ITTV finds customers by
    # CPF: a client's new contract takes over the customer of the cancelled one).
    shared_with_contract: int | None = None
    # The subscribers whose operations run one at a time with this one (see ``claim``).
    group: tuple[int, ...] = ()
    # The platform's product names by code: the answer names packages as operators know them.
    product_names: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def platform_id(self) -> int:
        return self.platform.id

    @property
    def platform_name(self) -> str:
        return self.platform.name

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
    contract = subscription.contract
    return _subscriber_data(subscription.external_ref, contract.product_codes, contract.base_codes, contract.client)


def _subscriber_data(external_ref: str, product_codes, base_codes, client) -> SubscriberData:
    return SubscriberData(
        external_ref=external_ref,
        name=client.name,
        document=client.document,
        email=client.email,
        plan=PlanProducts(tuple(product_codes), tuple(base_codes)),
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


# The running path of an operation reads and writes columns, not objects: each step is a few
# statements (tests/test_job_cost.py counts them), with no lazy load between them.


def peek(operation_id: int) -> Ticket | None:
    """The operation's ticket, if it still waits to run (None: done, failed, running elsewhere —
    a job delivered twice stops here)."""
    found = db.session.execute(
        select(
            Operation.deliveries,
            Operation.subscription_id,
            Contract.client_id,
            Subscription.platform_id,
            Platform.concurrency_limit,
            Platform.kind,
        )
        .join(Operation.subscription)
        .join(Subscription.contract)
        .join(Subscription.platform)
        .where(Operation.id == operation_id, Operation.status.in_(WAITING))
    ).first()
    if found is None:
        return None
    deliveries, subscription_id, client_id, platform_id, limit, kind = found
    return Ticket(
        operation_id, deliveries, subscription_id, client_id, platform_id, limit, kind_of(kind).one_contract_per_client
    )


def _lock(ticket: Ticket | Work) -> None:
    # Operations that reach the same customer at the platform run one after the other: one
    # subscriber's, or at a platform that knows one customer per client (ITTV, by CPF) every
    # subscriber of the client there (a new contract takes over the customer of a cancelled one).
    if ticket.per_client:
        lock_row(Client, ticket.client_id)
    else:
        lock_row(Subscription, ticket.subscription_id)


def claim(operation_id: int, ticket: Ticket | None = None) -> Work | Busy | None:
    """Take the operation up for this worker: it becomes *running*, one more attempt, with a
    lease. None when there is nothing to do (done, failed, running elsewhere, or a retry not yet
    due: a job delivered twice stops here). Run it in a fresh transaction: the checks must see
    the latest rows."""
    ticket = ticket or peek(operation_id)
    if ticket is None:
        return None
    now = utcnow()
    _lock(ticket)
    group, shared = [ticket.subscription_id], None
    if ticket.per_client:
        group, shared = _client_group(ticket)
    others_running = (
        select(Operation.id)
        .where(
            Operation.subscription_id.in_(group),
            Operation.status == OutboxStatus.running,
            Operation.lease_until > now,
            Operation.id != operation_id,
        )
        .exists()
    )
    taken = db.session.execute(
        update(Operation)
        .where(
            Operation.id == operation_id,
            Operation.status.in_(WAITING),
            or_(Operation.next_attempt_at.is_(None), Operation.next_attempt_at <= now + timedelta(seconds=1)),
            ~others_running,
        )
        .values(
            status=OutboxStatus.running,
            attempts=Operation.attempts + 1,
            started_at=now,
            lease_until=now + timedelta(seconds=current_app.config["PROVISIONING_LEASE"]),
            next_attempt_at=None,
            updated_at=now,
        )
        .returning(Operation.attempts, Operation.kind, Operation.target_status, Operation.details),
        execution_options={"synchronize_session": False},
    ).first()
    if taken is None:
        # Not taken: this one is no longer waiting or not due yet (nothing to do), or another
        # operation of the customer is running (wait for it).
        status, next_attempt_at = db.session.execute(
            select(Operation.status, Operation.next_attempt_at).where(Operation.id == operation_id)
        ).one()
        if status not in WAITING or (next_attempt_at is not None and next_attempt_at > now + timedelta(seconds=1)):
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
        return Busy(running_until) if running_until is not None else None
    attempt, kind, target_status, details = taken
    row = db.session.execute(
        select(
            Subscription.external_ref,
            Subscription.external_id,
            Subscription.desired_status,
            Subscription.contract_id,
            Contract.product_codes,
            Contract.base_codes,
            Client,
            Platform.kind,
            Platform.name,
            Platform.server_url,
            Platform.token_ciphertext,
        )
        .join(Subscription.contract)
        .join(Contract.client)
        .join(Subscription.platform)
        .where(Subscription.id == ticket.subscription_id)
    ).one()
    return Work(
        operation_id=operation_id,
        attempt=attempt,
        kind=OperationKind(kind),
        target_status=target_status,
        subscription_id=ticket.subscription_id,
        contract_id=row.contract_id,
        client_id=ticket.client_id,
        per_client=ticket.per_client,
        platform=PlatformAccess(ticket.platform_id, row.kind, row.name, row.server_url, row.token_ciphertext),
        desired=AccessStatus(row.desired_status),
        data=_subscriber_data(row.external_ref, row.product_codes, row.base_codes, row.Client),
        external_id=row.external_id,
        group=tuple(group),
        fields=tuple((details or {}).get("fields", ())),
        shared_with_contract=shared,
        product_names=names_by_code(ticket.platform_id),
    )


def _client_group(ticket: Ticket) -> tuple[list[int], int | None]:
    """The client's subscribers at the platform, and — when this contract was cancelled and
    another contract of the client is synced there now — that contract: the customer is that
    one's, and this operation must not touch it."""
    rows = db.session.execute(
        select(Subscription.id, Subscription.contract_id, Subscription.exclusive_client_id)
        .join(Subscription.contract)
        .where(Subscription.platform_id == ticket.platform_id, Contract.client_id == ticket.client_id)
    ).all()
    own = next((row for row in rows if row.id == ticket.subscription_id), None)
    shared = None
    if own is not None and own.exclusive_client_id is None:
        shared = next((row.contract_id for row in rows if row.exclusive_client_id == ticket.client_id), None)
    return [row.id for row in rows], shared


def _end_run(work: Work, **values):
    """The run's last change to its operation, if the run is still this worker's (the relay
    re-queues a run whose lease ran out; its late answer is then dropped). With the customer's
    row held, like the claim. Returns the operation's (deliveries, background), or None."""
    _lock(work)
    ended = db.session.execute(
        update(Operation)
        .where(
            Operation.id == work.operation_id,
            Operation.status == OutboxStatus.running,
            Operation.attempts == work.attempt,
        )
        .values(lease_until=None, updated_at=utcnow(), **values)
        .returning(Operation.deliveries, Operation.background),
        execution_options={"synchronize_session": False},
    ).first()
    if ended is None:
        log.warning("operation %s attempt %s lost its lease; its result is dropped", work.operation_id, work.attempt)
    return ended


def _update_subscription(work: Work, **values) -> None:
    db.session.execute(
        update(Subscription).where(Subscription.id == work.subscription_id).values(updated_at=utcnow(), **values),
        execution_options={"synchronize_session": False},
    )


def _hand_on(work: Work) -> None:
    """The operations that waited for this run (the same customer's) go now, each as a new job:
    the platform just answered."""
    outbox.redeliver_where(
        Operation,
        Operation.subscription_id.in_(list(work.group or [work.subscription_id])),
        Operation.status.in_(WAITING),
        Operation.id != work.operation_id,
    )


def asked_words(operation: Operation) -> str:
    """What the operation asked, as operators name it: "Cancelamento", "Bloqueio total"."""
    return words.request_word(operation.kind, operation.target_status, operation.subscription.platform.kind)


def _answer_line(
    contract_id: int, operation_id: int, platform_name: str, asked: str, status: OutboxStatus, answer: str
) -> None:
    """The contract history says how the request ended (done with the platform's answer, or
    failed with the reason): "Cancelamento: resposta da ITTV."."""
    failed = status is OutboxStatus.failed
    asked_text = f"{asked}: falha na {platform_name}." if failed else f"{asked}: resposta da {platform_name}."
    add_answer(contract_id, SYSTEM, "platform_answer", asked_text, operation_id=operation_id, answer=answer)


def _finish(work: Work, status: OutboxStatus, answer: str, **subscription_values) -> bool:
    now = utcnow()
    values = {"status": status, "finished_at": now}
    if status is OutboxStatus.failed:
        values["last_error"] = answer
    else:
        values["result"] = answer
    if _end_run(work, **values) is None:
        return False
    _update_subscription(work, **subscription_values)
    _answer_line(
        work.contract_id,
        work.operation_id,
        work.platform_name,
        words.request_word(work.kind, work.target_status, work.platform.kind),
        status,
        answer,
    )
    _hand_on(work)
    return True


def complete(work: Work, *, confirmed: AccessStatus | None, external_id: str | None, answer: str) -> bool:
    """The platform holds ``confirmed`` (None: nothing to confirm, e.g. a login update): record it
    with the result and a history line; the operations that waited for this one go now. False
    when the run was no longer this worker's."""
    values: dict = {"last_error": None}
    if confirmed is not None:
        values.update(remote_status=confirmed.value, confirmed_at=utcnow())
    if external_id:
        values["external_id"] = external_id
    return _finish(work, OutboxStatus.done, answer, **values)


def fail(work: Work, message: str) -> bool:
    """The operation failed for good: the message goes on the operation, the subscriber (its
    row shows it) and the contract history."""
    return _finish(work, OutboxStatus.failed, message, last_error=message)


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
    at = utcnow() + timedelta(seconds=backoff(work.attempt, retry_after))
    ended = _end_run(
        work, status=OutboxStatus.queued, next_attempt_at=at, deliveries=Operation.deliveries + 1, last_error=message
    )
    if ended is None:
        return
    _update_subscription(work, last_error=message)
    _hand_on(work)
    deliveries, background = ended
    outbox.deliver_id(Operation, work.operation_id, deliveries, at, background=background)


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
            answer = message + " Limite de tentativas atingido."
            subscription = operation.subscription
            operation.last_error = subscription.last_error = answer
            _answer_line(
                subscription.contract_id,
                operation.id,
                subscription.platform.name,
                asked_words(operation),
                OutboxStatus.failed,
                answer,
            )
        else:
            operation.last_error = message + " Nova tentativa."
    return again
