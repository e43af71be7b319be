"""The operator's side of the operations (the requests about subscribers in the outbox): what
the pages list, and *Tentar novamente*. The worker's side is panel.domain.provisioning."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select

from panel.domain import outbox
from panel.domain.common import Actor, DomainError, lock_row
from panel.domain.history import add_event
from panel.domain.provisioning import asked_words
from panel.extensions import db
from panel.models import Operation, OutboxStatus, Subscription
from panel.models.outbox import UNFINISHED


def retry(actor: Actor, operation: Operation) -> Operation:
    """*Tentar novamente*: a failed operation goes again from its first attempt (after the
    operator fixed what the platform refused, for instance)."""
    lock_row(Subscription, operation.subscription_id)
    db.session.refresh(operation)
    if operation.status != OutboxStatus.failed:
        raise DomainError("Só é possível tentar de novo uma operação que falhou.")
    if operation.id not in latest_ids([operation.subscription_id]):
        raise DomainError(
            "Um pedido mais recente deste assinante já substituiu esta operação: não há o que tentar de novo."
        )
    operation.status = OutboxStatus.pending
    operation.attempts = 0
    operation.next_attempt_at = None
    operation.finished_at = None
    operation.deliveries += 1
    add_event(
        operation.subscription.contract,
        actor,
        "retry",
        f"{asked_words(operation)}: nova tentativa na {operation.subscription.platform.name}.",
        operation=operation,
    )
    outbox.deliver(operation)
    return operation


def latest_ids_query(subscription_ids: list[int]):
    """The ids of these subscribers' latest operations, as a query to run or to nest."""
    return (
        select(func.max(Operation.id))
        .where(Operation.subscription_id.in_(subscription_ids))
        .group_by(Operation.subscription_id)
    )


def latest_ids(subscription_ids: Iterable[int]) -> set[int]:
    """The latest operation of each of these subscribers (the only one *Tentar novamente* may
    send again: an older one was replaced by what came after it)."""
    ids = list(subscription_ids)
    return set(db.session.scalars(latest_ids_query(ids))) if ids else set()


def recent(
    *,
    status: str | None = None,
    platform_id: int | None = None,
    kind: str | None = None,
    contract_id: int | None = None,
    regua_run_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Operation]:
    """The *Operações* page: newest first, keyset-paged. ``status``: pending (not finished),
    failed, done, or None for all; ``regua_run_id``: the requests of one run of the régua;
    ``since``: those whose state last changed from then on (a failure: when it failed)."""
    query = select(Operation).order_by(Operation.id.desc()).limit(limit)
    if since is not None:
        query = query.where(Operation.updated_at >= since)
    if regua_run_id is not None:
        query = query.where(Operation.regua_run_id == regua_run_id)
    if status == "pending":
        query = query.where(Operation.status.in_(UNFINISHED))
    elif status in (OutboxStatus.failed, OutboxStatus.done):
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
