"""*Conciliação*: what each platform really holds, compared with our subscribers, and what an
operator does about each difference.

A run (``ReconciliationRun``, an outbox row a job carries out: panel.jobs.reconciliation) reads the
platform's whole subscriber list through its adapter, a batch at a time, and compares each batch
with our subscribers of that platform found by the platform's id (or our reference, where the
platform keeps it) — memory stays bounded: a batch, its rows, and counters. Each subscriber we
find is marked as seen by the run (``Subscription.seen_in_run_id``); ours that were synced and
not seen are, at the end, *ausente lá*. Kinds of difference (``DifferenceKind``):

- *ativo lá, bloqueado/cancelado aqui*: the platform gives more access than the contract says;
- *bloqueado lá, ativo aqui*: less;
- *pacotes diferentes*: the same status word there, other packages (an ITTV partial block too);
- *desconhecido*: an account there that is none of ours;
- *ausente lá*: ours, synced, not there.

Nothing is repaired without a person (unless the platform's *corrigir automaticamente* is on):
- *Corrigir*: an Operation like *Sincronizar*'s converges the platform to the contract;
- *Aceitar*: the platform's state becomes the contract's confirmed state, with a reason — only
  where the contract's rules (panel.domain.contract_rules) allow that transition;
- *Vincular*: an unknown account is tied to a contract of the same CPF/CNPJ at that platform.
Every one writes a history line "Conciliação: …" (and so an audit line).

The comparison speaks through a *comparer* — the platform's adapter, given by the job: its
``matches``, ``status_of`` and ``target`` say how the platform expresses our statuses (the domain
does not import adapters).
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from panel.domain import audit, outbox, words
from panel.domain.common import Actor, DomainError, lock_row
from panel.domain.contract_rules import ContractAction, State, decide
from panel.domain.contracts import traits
from panel.domain.history import add_event
from panel.domain.kinds import kind_of
from panel.domain.regua import STRENGTH
from panel.domain.vocabulary import AccessStatus, PlanProducts, RemoteSubscriber
from panel.extensions import db
from panel.formats import ngettext
from panel.inputs import without_control_characters
from panel.models import (
    Client,
    Contract,
    ContractStatus,
    DifferenceKind,
    Operation,
    OperationKind,
    OutboxStatus,
    Platform,
    ReconciliationDifference,
    ReconciliationRun,
    ReconciliationTrigger,
    Resolution,
    Subscription,
)
from panel.models.outbox import UNFINISHED
from panel.models.types import utcnow

RECONCILIATION = Actor.system("Conciliação")
BATCH = 500  # platform subscribers compared per step (one transaction, a handful of statements)
RUN_LEASE_S = 3600  # longer than a step takes; a silent worker past this is taken as dead
MAX_ATTEMPTS = 2
BULK_LIMIT = 500
REASON_MAX = 200
PAGE_SIZE = 50
# A run asked and never started (no worker, no relay) is taken as lost after this: a new one may
# be asked.
STALE_AFTER = timedelta(hours=2)


class Comparer(Protocol):
    """How a platform expresses our statuses (its adapter: panel.providers.base.Provider)."""

    def matches(self, remote: RemoteSubscriber, status: AccessStatus, plan: PlanProducts) -> bool: ...

    def status_of(self, remote: RemoteSubscriber, plan: PlanProducts) -> AccessStatus | None: ...

    def target(self, status: AccessStatus, plan: PlanProducts): ...


# -- classifying ----------------------------------------------------------------------------------


def classify(
    remote: RemoteSubscriber, desired: AccessStatus, plan: PlanProducts, comparer: Comparer
) -> tuple[DifferenceKind | None, AccessStatus | None]:
    """The kind of difference between what the platform holds and what we want (None: they
    agree), and what the platform holds in our words (None: none of the plan's states)."""
    if comparer.matches(remote, desired, plan):
        return None, desired
    there = comparer.status_of(remote, plan)
    if remote.platform_status == comparer.target(desired, plan).platform_status:
        return DifferenceKind.packages, there
    if there is None:  # a status word with packages the plan does not give: judged by the word
        active_word = comparer.target(AccessStatus.ACTIVE, plan).platform_status
        level = AccessStatus.ACTIVE if remote.platform_status == active_word else AccessStatus.BLOCKED
    else:
        level = there
    kind = DifferenceKind.active_there if STRENGTH[level] < STRENGTH[desired] else DifferenceKind.blocked_there
    return kind, there


@dataclass
class Scan:
    """A run in progress, between its steps (ids and counters only: no database object)."""

    run_id: int
    attempt: int
    platform_id: int
    listed: int = 0
    counts: Counter = field(default_factory=Counter)


def _still_mine(run_id: int, attempt: int) -> ReconciliationRun | None:
    lock_row(ReconciliationRun, run_id)
    run = db.session.get(ReconciliationRun, run_id, populate_existing=True)
    return run if run is not None and run.status is OutboxStatus.running and run.attempts == attempt else None


class RunLost(Exception):
    """The run is no longer this worker's (taken as lost and sent again): stop quietly."""


def start(run_id: int) -> ReconciliationRun | None:
    """A worker takes the run up (None: nothing to do — finished, or running elsewhere)."""
    run = db.session.get(ReconciliationRun, run_id, populate_existing=True)
    if run is None or run.status not in (OutboxStatus.pending, OutboxStatus.queued):
        return None
    # One run of a platform at a time: two would mark each other's subscribers as unseen.
    lock_row(Platform, run.platform_id)
    running = db.session.scalar(
        select(ReconciliationRun.id)
        .where(
            ReconciliationRun.platform_id == run.platform_id,
            ReconciliationRun.status == OutboxStatus.running,
            ReconciliationRun.id != run.id,
        )
        .limit(1)
    )
    if running is not None:
        run.error = f"A conciliação {running} desta plataforma estava em andamento."
        outbox.end(run, OutboxStatus.failed)
        return None
    outbox.take(run, RUN_LEASE_S)
    run.progress_done, run.platform_count, run.counts, run.error = 0, None, None, None
    # Until the platform's list is read to its end, "about as many as our synced subscribers".
    run.progress_total = db.session.scalar(select(func.count()).where(_synced(run.platform_id))) or 0
    # A run taken up again starts over: what an earlier attempt recorded goes.
    db.session.execute(delete_differences(run.id))
    db.session.flush()
    return run


def delete_differences(run_id: int):
    return ReconciliationDifference.__table__.delete().where(ReconciliationDifference.run_id == run_id)


def _synced(platform_id: int):
    """Our subscribers the platform should hold: created or confirmed there, not cancelled."""
    return (
        (Subscription.platform_id == platform_id)
        & (Subscription.desired_status != AccessStatus.CANCELLED.value)
        & or_(Subscription.external_id.is_not(None), Subscription.remote_status.is_not(None))
    )


def compare_batch(scan: Scan, batch: list[RemoteSubscriber], comparer: Comparer) -> None:
    """One step: a batch of the platform's list compared with our subscribers, its differences
    recorded, the subscribers found marked as seen, the run's progress moved on."""
    run = _still_mine(scan.run_id, scan.attempt)
    if run is None:
        raise RunLost
    ids = [remote.external_id for remote in batch]
    refs = [remote.external_ref for remote in batch if remote.external_ref]
    condition = Subscription.external_id.in_(ids)
    if refs:
        condition = or_(condition, Subscription.external_ref.in_(refs))
    rows = db.session.execute(
        select(
            Subscription.id,
            Subscription.external_id,
            Subscription.external_ref,
            Subscription.desired_status,
            Contract.product_codes,
            Contract.base_codes,
            Client.name,
        )
        .join(Contract, Contract.id == Subscription.contract_id)
        .join(Client, Client.id == Contract.client_id)
        .where(Subscription.platform_id == scan.platform_id, condition)
    ).all()
    by_ref = {row.external_ref: row for row in rows}
    by_id: dict[str, list] = {}
    for row in rows:
        if row.external_id:
            by_id.setdefault(row.external_id, []).append(row)
    found = []
    for remote in batch:
        row = by_ref.get(remote.external_ref) if remote.external_ref else None
        if row is None and remote.external_id in by_id:
            # One customer, several of our subscribers (ITTV: a client's new contract took over
            # the customer of a cancelled one): the one not cancelled speaks for it.
            row = max(
                by_id[remote.external_id],
                key=lambda r: (r.desired_status != AccessStatus.CANCELLED.value, r.id),
            )
        if row is None:
            found.append(_difference(run, DifferenceKind.unknown, remote, None, None, None, name=remote.name))
            continue
        desired = AccessStatus(row.desired_status)
        kind, there = classify(remote, desired, PlanProducts(tuple(row.product_codes), tuple(row.base_codes)), comparer)
        if kind is not None:
            found.append(_difference(run, kind, remote, row.id, desired, there, name=row.name))
    if rows:
        db.session.execute(
            update(Subscription)
            .where(Subscription.id.in_([row.id for row in rows]))
            # (a sighting is not a change of the subscriber: updated_at stays)
            .values(seen_in_run_id=run.id, updated_at=Subscription.updated_at),
            execution_options={"synchronize_session": False},
        )
    if found:
        db.session.execute(insert(ReconciliationDifference), found)
    scan.listed += len(batch)
    scan.counts.update(item["kind"] for item in found)
    run.progress_done = scan.listed
    run.progress_total = max(run.progress_total, scan.listed)
    run.lease_until = utcnow() + timedelta(seconds=RUN_LEASE_S)  # alive: a long list is not a dead worker
    run.counts = {str(kind): count for kind, count in scan.counts.items()}


def _difference(run, kind, remote, subscription_id, desired, there, *, name) -> dict:
    return {
        "run_id": run.id,
        "kind": kind,
        "subscription_id": subscription_id,
        "external_id": remote.external_id[:64] if remote else None,
        "external_ref": (remote.external_ref or None) and remote.external_ref[:64] if remote else None,
        "document": (remote.document or None) and remote.document[:20] if remote else None,
        "name": (name or None) and name[:160],
        "remote_status": remote.platform_status[:32] if remote else None,
        "remote_products": list(remote.products) if remote else None,
        "remote_access": there.value if there else None,
        "our_status": desired.value if desired else None,
    }


def finish(scan: Scan) -> ReconciliationRun | None:
    """The last step: ours that the platform did not list are *ausente lá*; the run ends with
    its counts (and, when the platform says so, corrects what it found)."""
    run = _still_mine(scan.run_id, scan.attempt)
    if run is None:
        raise RunLost
    after_id = 0
    while True:
        rows = db.session.execute(
            select(Subscription.id, Subscription.external_id, Subscription.desired_status, Client.name, Client.document)
            .join(Contract, Contract.id == Subscription.contract_id)
            .join(Client, Client.id == Contract.client_id)
            .where(
                _synced(scan.platform_id),
                or_(Subscription.seen_in_run_id.is_(None), Subscription.seen_in_run_id != run.id),
                Subscription.id > after_id,
            )
            .order_by(Subscription.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        db.session.execute(
            insert(ReconciliationDifference),
            [
                {
                    "run_id": run.id,
                    "kind": DifferenceKind.missing_there,
                    "subscription_id": row.id,
                    "external_id": row.external_id,
                    "document": row.document,
                    "name": row.name[:160],
                    "our_status": row.desired_status,
                }
                for row in rows
            ],
        )
        scan.counts[DifferenceKind.missing_there] += len(rows)
        after_id = rows[-1].id
    run.platform_count = scan.listed
    run.progress_done = run.progress_total = max(run.progress_total, scan.listed)
    run.counts = {str(kind): scan.counts.get(kind, 0) for kind in DifferenceKind}
    outbox.end(run, OutboxStatus.done)
    platform = db.session.get(Platform, run.platform_id)
    audit.record(
        RECONCILIATION if run.trigger is ReconciliationTrigger.cron else Actor(name=run.requested_by_name),
        "reconciliation.run",
        f"Conciliação com {platform.name}: "
        + ngettext("%(num)s assinante na plataforma", "%(num)s assinantes na plataforma", scan.listed)
        + ", "
        + ngettext("%(num)s diferença.", "%(num)s diferenças.", sum(scan.counts.values())),
        target=run,
    )
    if platform.auto_correct:
        _auto_correct(run, platform)
    db.session.flush()
    return run


def _auto_correct(run: ReconciliationRun, platform: Platform) -> None:
    """*Corrigir automaticamente*: every difference on one of ours is corrected by the run."""
    after_id = 0
    while True:
        batch = list(
            db.session.scalars(
                select(ReconciliationDifference)
                .where(
                    ReconciliationDifference.run_id == run.id,
                    ReconciliationDifference.subscription_id.is_not(None),
                    ReconciliationDifference.kind != DifferenceKind.unknown,
                    ReconciliationDifference.id > after_id,
                )
                .order_by(ReconciliationDifference.id)
                .limit(BATCH)
            )
        )
        if not batch:
            return
        for difference in batch:
            _correct(RECONCILIATION, difference, automatic_run=run)
        after_id = batch[-1].id


def fail(run_id: int, attempt: int, message: str) -> None:
    run = _still_mine(run_id, attempt)
    if run is not None:
        outbox.end(run, OutboxStatus.failed)
        run.error = message
        db.session.flush()


LOST = "O processo que executava a conciliação parou antes de terminar. Use Conciliar agora para tentar de novo."


def requeue_lost(now=None, run_ids: list[int] | None = None) -> list[ReconciliationRun]:
    """Runs whose worker died: sent again (a run starts over), failed after the last attempt."""
    again, failed = outbox.lost_runs(ReconciliationRun, MAX_ATTEMPTS, now=now, row_ids=run_ids)
    for run in failed:
        run.error = LOST
    db.session.flush()
    return again


# -- asking for runs ----------------------------------------------------------------------------


def unfinished_run(platform_id: int) -> ReconciliationRun | None:
    run = db.session.scalar(
        select(ReconciliationRun)
        .where(ReconciliationRun.platform_id == platform_id, ReconciliationRun.status.in_(UNFINISHED))
        .order_by(ReconciliationRun.id.desc())
        .limit(1)
    )
    if run is not None and run.status is not OutboxStatus.running and run.created_at < utcnow() - STALE_AFTER:
        return None  # asked long ago and never taken up: taken as lost
    return run


def request_run(
    actor: Actor, platform: Platform, trigger: ReconciliationTrigger, *, deliver: bool = True
) -> ReconciliationRun:
    """*Conciliar agora* (or the night's run): recorded, sent to the workers once the caller
    commits. While one of the platform's runs is on its way, that one is returned."""
    if not platform.active:
        raise DomainError(f"A plataforma {platform.name} está desativada: reative-a para conciliar.")
    lock_row(Platform, platform.id)  # two clicks at once: one run
    current = unfinished_run(platform.id)
    if current is not None:
        return current
    # Asked long ago and never taken up: it fails here, so it can never run beside the new one.
    for lost in db.session.scalars(
        select(ReconciliationRun).where(
            ReconciliationRun.platform_id == platform.id,
            ReconciliationRun.status.in_((OutboxStatus.pending, OutboxStatus.queued)),
        )
    ):
        lost.error = "Não foi iniciada a tempo; substituída por uma nova conciliação."
        outbox.end(lost, OutboxStatus.failed)
    run = ReconciliationRun(
        platform_id=platform.id,
        trigger=trigger,
        status=OutboxStatus.pending,
        requested_by_id=actor.user.id if actor.user is not None else None,
        requested_by_name=actor.name,
    )
    db.session.add(run)
    db.session.flush()
    audit.record(actor, "reconciliation.request", f"Pediu a conciliação com {platform.name}.", target=run)
    if deliver:
        outbox.deliver(run)
    return run


# -- acting on differences ----------------------------------------------------------------------


def _open(difference: ReconciliationDifference) -> None:
    """Refuse a difference already resolved (read again under a row lock: two people, or a
    double click, resolve it once) or found by a run older than the platform's last one (what
    it says of the platform may no longer be true)."""
    lock_row(ReconciliationDifference, difference.id)
    db.session.refresh(difference)
    if difference.resolution is not None:
        raise DomainError(
            f"Esta diferença já foi resolvida ({difference.resolution.label} por {difference.resolved_by_name})."
        )
    latest = last_finished_run(difference.run.platform_id)
    if latest is None or latest.id != difference.run_id:
        raise DomainError(
            "Esta diferença é de uma conciliação anterior à última: veja a última execução, ou concilie de novo."
        )


def _resolve(difference, resolution: Resolution, actor: Actor, reason: str | None = None) -> None:
    difference.resolution = resolution
    difference.resolved_by_id = actor.user.id if actor.user is not None else None
    difference.resolved_by_name = actor.name
    difference.resolved_at = utcnow()
    difference.reason = reason


def _sync_operation(actor: Actor, subscription: Subscription) -> Operation:
    """What *Sincronizar* sends: the platform brought to the subscriber's desired status (created
    when missing) by the provisioning engine."""
    operation = Operation(
        subscription=subscription,
        kind=OperationKind.sync,
        target_status=subscription.desired_status,
        requested_by_id=actor.user.id if actor.user is not None else None,
        requested_by_name=actor.name,
    )
    db.session.add(operation)
    db.session.flush()
    outbox.deliver(operation)
    return operation


def _correct(
    actor: Actor, difference: ReconciliationDifference, *, automatic_run: ReconciliationRun | None = None
) -> Operation:
    _open(difference)
    if difference.subscription_id is None:
        raise DomainError("Esta conta não é de nenhum contrato do painel: use Vincular (ou resolva na plataforma).")
    subscription = difference.subscription
    contract = subscription.contract
    lock_row(Contract, contract.id)
    db.session.refresh(subscription)
    platform = subscription.platform.name
    desired = AccessStatus(subscription.desired_status)
    operation = _sync_operation(actor, subscription)
    by = f" automática (execução {automatic_run.id})" if automatic_run is not None else ""
    add_event(
        contract,
        actor,
        "reconciliation_fix",
        f"Conciliação{by}: {difference.kind.label.lower()} na {platform}; pedido para a {platform} voltar ao que "
        f"o contrato diz ({desired.label.lower()}).",
        operation=operation,
        details={"reconciliation_run_id": difference.run_id, "difference_id": difference.id},
    )
    _resolve(difference, Resolution.corrected, actor)
    return operation


def correct(actor: Actor, difference: ReconciliationDifference) -> Operation:
    """*Corrigir*: the platform goes back to what the contract says (an Operation, a history line)."""
    operation = _correct(actor, difference)
    db.session.flush()
    return operation


# The contract action that leads to each status the platform may hold (for *Aceitar*).
ACCEPT_ACTIONS = {
    AccessStatus.ACTIVE: ContractAction.unblock,
    AccessStatus.PARTIAL_BLOCK: ContractAction.partial_block,
    AccessStatus.BLOCKED: ContractAction.block,
    AccessStatus.CANCELLED: ContractAction.cancel,
}


def clean_reason(reason: str | None) -> str:
    reason = " ".join(without_control_characters(reason or "").split())
    if not reason:
        raise DomainError("Informe o motivo para aceitar a situação da plataforma (fica no histórico).", "reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"O motivo pode ter no máximo {REASON_MAX} caracteres.", "reason")
    return reason


def _accept(actor: Actor, difference: ReconciliationDifference, reason: str) -> Subscription:
    _open(difference)
    if difference.kind is DifferenceKind.unknown:
        raise DomainError("Esta conta não é de nenhum contrato do painel: use Vincular.")
    if difference.kind is DifferenceKind.missing_there or difference.subscription_id is None:
        raise DomainError("A plataforma não tem este assinante: não há situação lá para aceitar. Use Corrigir.")
    if difference.remote_access is None:
        raise DomainError(
            "O que a plataforma tem não corresponde a nenhuma situação do plano (outros pacotes): "
            "não pode ser aceito. Use Corrigir."
        )
    there = AccessStatus(difference.remote_access)
    subscription = difference.subscription
    contract = subscription.contract
    lock_row(Contract, contract.id)
    db.session.refresh(contract)
    db.session.refresh(subscription)
    platform = contract.platform
    before = State(contract.status, AccessStatus(subscription.desired_status))
    if before.desired is not there:
        try:
            outcome = decide(before, ACCEPT_ACTIONS[there], traits(platform))
        except DomainError as refused:
            raise DomainError(f"Não é possível aceitar {there.label.lower()}: {refused.message}") from None
        if outcome.state.contract != contract.status:
            contract.status = outcome.state.contract
            contract.status_changed_at = utcnow()
    subscription.set_state(contract.status, there.value)
    if contract.status is ContractStatus.cancelled:
        subscription.exclusive_client_id = None
    # The platform holds it already: confirmed as it is, nothing is sent.
    subscription.remote_status, subscription.confirmed_at, subscription.last_error = there.value, utcnow(), None
    add_event(
        contract,
        actor,
        "reconciliation_accept",
        f"Conciliação: aceita a situação da {platform.name} ({there.label.lower()}) como a do contrato. "
        f"Motivo: {reason}",
        details={"reconciliation_run_id": difference.run_id, "difference_id": difference.id},
    )
    _resolve(difference, Resolution.accepted, actor, reason)
    return subscription


def accept(actor: Actor, difference: ReconciliationDifference, reason: str | None) -> Subscription:
    """*Aceitar*: what the platform holds becomes the contract's confirmed state, with a reason."""
    subscription = _accept(actor, difference, clean_reason(reason))
    db.session.flush()
    return subscription


@dataclass(frozen=True)
class BulkResult:
    done: list[int]  # difference ids
    refused: list[tuple[int, str]]  # (difference id, why)


def _many(ids: list[int], platform_id: int, each) -> BulkResult:
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise DomainError("Marque ao menos uma diferença.")
    if len(ids) > BULK_LIMIT:
        raise DomainError(f"Marque no máximo {BULK_LIMIT} diferenças por vez.")
    done, refused = [], []
    try:
        for difference_id in sorted(ids):  # always the same order: two bulk requests cannot deadlock
            difference = db.session.get(ReconciliationDifference, difference_id)
            if difference is None or difference.run.platform_id != platform_id:
                refused.append((difference_id, "diferença não encontrada."))
                continue
            try:
                each(difference)  # (a refusal comes before any change)
                done.append(difference_id)
            except DomainError as error:
                refused.append((difference_id, error.message))
        db.session.flush()
    except IntegrityError:
        raise DomainError(
            "As diferenças mudaram ao mesmo tempo em outra tela: nada foi feito; tente de novo."
        ) from None
    return BulkResult(done, refused)


def correct_many(actor: Actor, platform_id: int, ids: list[int]) -> BulkResult:
    return _many(ids, platform_id, lambda difference: _correct(actor, difference))


def accept_many(actor: Actor, platform_id: int, ids: list[int], reason: str | None) -> BulkResult:
    reason = clean_reason(reason)
    return _many(ids, platform_id, lambda difference: _accept(actor, difference, reason))


def link_candidates(difference: ReconciliationDifference) -> list[Contract]:
    """Contracts *Vincular* may tie this account to: of its platform, of a client with the same
    CPF/CNPJ, not cancelled, with no subscriber there yet."""
    if not difference.document:
        return []
    platform_id = difference.run.platform_id
    has_subscriber = (
        select(Subscription.id)
        .where(Subscription.contract_id == Contract.id, Subscription.platform_id == platform_id)
        .exists()
    )
    return list(
        db.session.scalars(
            select(Contract)
            .join(Contract.client)
            .where(
                Contract.platform_id == platform_id,
                Client.document == difference.document,
                Contract.status != ContractStatus.cancelled,
                ~has_subscriber,
            )
            .order_by(Contract.id)
        )
    )


def link(actor: Actor, difference: ReconciliationDifference, contract_id: int | None) -> Subscription:
    """*Vincular*: the unknown account becomes the contract's subscriber at the platform; an
    Operation then brings it to what the contract says."""
    _open(difference)
    if difference.kind is not DifferenceKind.unknown:
        raise DomainError("Só uma conta desconhecida pode ser vinculada a um contrato.")
    contract = db.session.get(Contract, contract_id) if contract_id else None
    if contract is None:
        raise DomainError("Escolha o contrato a vincular.", "contract_id")
    if contract not in link_candidates(difference):
        raise DomainError(
            "Este contrato não pode receber a conta: ele deve ser da mesma plataforma, de um cliente com o mesmo "
            "CPF/CNPJ, não cancelado e ainda sem assinante na plataforma.",
            "contract_id",
        )
    platform = contract.platform
    taken = db.session.scalar(
        select(Subscription.contract_id).where(
            Subscription.platform_id == platform.id,
            Subscription.external_id == difference.external_id,
            Subscription.desired_status != AccessStatus.CANCELLED.value,
        )
    )
    if taken is not None:
        raise DomainError(f"Esta conta já está vinculada ao contrato {taken}.")
    lock_row(Contract, contract.id)
    desired = AccessStatus.ACTIVE if contract.status is ContractStatus.active else AccessStatus.BLOCKED
    subscription = Subscription(
        contract=contract,
        platform=platform,
        # Where the platform keeps our reference (Skeelo), the account's is kept: it finds it by it.
        external_ref=difference.external_ref or f"psva-{contract.id}-{secrets.token_hex(4)}",
        external_id=difference.external_id,
        exclusive_client_id=contract.client_id if kind_of(platform.kind).one_contract_per_client else None,
        remote_status=difference.remote_access,
    )
    subscription.set_state(contract.status, desired.value)
    db.session.add(subscription)
    try:
        db.session.flush()
    except IntegrityError:  # (the caller rolls the request back)
        raise DomainError(
            f"Não foi possível vincular: outro contrato deste cliente já está sincronizado com a {platform.name}, "
            "ou a referência da conta já é de outro assinante."
        ) from None
    operation = _sync_operation(actor, subscription)
    add_event(
        contract,
        actor,
        "reconciliation_link",
        f"Conciliação: a conta {difference.external_id} da {platform.name} (mesmo CPF/CNPJ) foi vinculada a este "
        f"contrato; pedido para a {platform.name} ficar como o contrato diz ({desired.label.lower()}).",
        operation=operation,
        details={"reconciliation_run_id": difference.run_id, "difference_id": difference.id},
    )
    _resolve(difference, Resolution.linked, actor)
    difference.subscription_id = subscription.id
    db.session.flush()
    return subscription


# -- reading -------------------------------------------------------------------------------------


def latest_run(platform_id: int) -> ReconciliationRun | None:
    """The platform's newest run, whatever its state (the page shows it running)."""
    return db.session.scalar(
        select(ReconciliationRun)
        .where(ReconciliationRun.platform_id == platform_id)
        .order_by(ReconciliationRun.id.desc())
        .limit(1)
    )


def last_finished_run(platform_id: int) -> ReconciliationRun | None:
    return db.session.scalar(
        select(ReconciliationRun)
        .where(ReconciliationRun.platform_id == platform_id, ReconciliationRun.status == OutboxStatus.done)
        .order_by(ReconciliationRun.id.desc())
        .limit(1)
    )


def last_runs() -> list[ReconciliationRun]:
    """The last finished run of each platform (for the home page), by platform name."""
    newest = (
        select(func.max(ReconciliationRun.id))
        .where(ReconciliationRun.status == OutboxStatus.done)
        .group_by(ReconciliationRun.platform_id)
    )
    return list(
        db.session.scalars(
            select(ReconciliationRun)
            .join(ReconciliationRun.platform)
            .where(ReconciliationRun.id.in_(newest))
            .order_by(Platform.name)
        )
    )


def platform_count_from_last_reconciliation(platform_id: int) -> tuple[int, datetime] | None:
    """How many subscribers the platform listed in its last finished run, and when (for Licenças)."""
    run = last_finished_run(platform_id)
    if run is None or run.platform_count is None:
        return None
    return run.platform_count, run.finished_at


def differences(
    run_id: int,
    *,
    kind: DifferenceKind | None = None,
    text: str = "",
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[ReconciliationDifference]:
    """A run's differences, newest first, keyset-paged (``before_id``), of one kind, searched by
    name, CPF/CNPJ or the platform's id."""
    query = select(ReconciliationDifference).where(ReconciliationDifference.run_id == run_id)
    if kind is not None:
        query = query.where(ReconciliationDifference.kind == kind)
    text = " ".join(without_control_characters(text).split())
    if text:
        digits = "".join(char for char in text if char.isdigit())
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions = [
            ReconciliationDifference.name.ilike(f"%{escaped}%", escape="\\"),
            ReconciliationDifference.external_id == text,
            ReconciliationDifference.external_ref == text,
        ]
        if len(digits) >= 5:
            conditions.append(ReconciliationDifference.document.startswith(digits))
        query = query.where(or_(*conditions))
    if before_id is not None:
        query = query.where(ReconciliationDifference.id < before_id)
    query = query.options(joinedload(ReconciliationDifference.subscription))  # (its contract number, shown)
    return list(db.session.scalars(query.order_by(ReconciliationDifference.id.desc()).limit(limit)))


def describe_duration(run: ReconciliationRun) -> str:
    duration = run.duration
    if duration is None:
        return "—"
    seconds = int(duration.total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{max(seconds, 0)} s"


def platform_words(difference: ReconciliationDifference, names: dict[str, str] | None = None) -> str:
    """What the platform showed, in our words: "Inativo · PlayHub Premium" (``names``: the
    platform's product names by code; a code without one shows as it is)."""
    if difference.remote_status is None:
        return "—"
    products = ", ".join((names or {}).get(code) or code for code in difference.remote_products or [])
    return words.platform_status_word(difference.remote_status) + (f" · {products}" if products else "")
