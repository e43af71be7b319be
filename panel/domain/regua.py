"""The régua de cobrança (*Bloqueio automático pela Régua de Configuração*): each day, each active
rule blocks the contracts whose oldest open título is at least its days overdue, and a payment
lifts the blocks the régua made.

What a rule does on a day D (the operators' date, DISPLAY_TIMEZONE):
- its *candidates* are the contracts with a subscriber at a platform in its scope (one platform,
  or every platform of its action's plan type that can hold the action's status), not cancelled,
  with an unpaid título due on or before D − N days — one indexed query;
- each candidate is *skipped* when its contract is suspended, exempt ("Não bloquear até") on D,
  or its subscriber already holds the rule's status or a stronger one; otherwise it is *blocked*:
  desired status, an Operation (a background one: the operators' clicks go first) and a history
  line that names the rule and the título, written in bulk;
- the blocks this rule made that no longer apply (the título was paid, and the rule says
  *desbloquear ao pagar*) are *unblocked* — the run's safety net; a payment does it at once
  (``after_payment``, in the payment's transaction).

Never twice: a run is a ``ReguaRun`` row, unique per rule and day, taken before anything is
written; a second run of the same day (another scheduler, the CLI) finds it and does nothing. A
dry run (``simulate``) computes the same verdicts and writes nothing — not even a run.
Never someone else's block: a subscriber remembers who blocked it (``Subscription.blocked_by``);
only the régua's blocks are lifted by payment or by a run; an operator's block and a suspension stay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from panel.domain import audit, outbox
from panel.domain.common import Actor, DomainError, local_today, lock_row
from panel.domain.history import add_event
from panel.domain.kinds import kind_of
from panel.domain.vocabulary import AccessStatus
from panel.extensions import db
from panel.formats import local_datetime, ngettext
from panel.models import (
    BillingRule,
    BlockOrigin,
    Client,
    Contract,
    ContractEvent,
    ContractStatus,
    Invoice,
    ListTab,
    Operation,
    OperationKind,
    OutboxStatus,
    Platform,
    ReguaRun,
    ReguaTrigger,
    Subscription,
)
from panel.models.types import utcnow

REGUA = Actor.system("Régua")
# How strong an access status is: a rule never weakens a subscriber's block.
STRENGTH = {AccessStatus.ACTIVE: 0, AccessStatus.PARTIAL_BLOCK: 1, AccessStatus.BLOCKED: 2, AccessStatus.CANCELLED: 3}
WRITE_BATCH = 500  # rows per bulk statement (SQLite's parameter limit is far above)


class Decision:
    BLOCK = "block"
    UNBLOCK = "unblock"
    SKIP = "skip"


SKIP_SUSPENDED = "suspenso"
SKIP_EXEMPT = "isento"
SKIP_ALREADY = "já bloqueado"
SKIP_REASONS = {SKIP_SUSPENDED: "contrato suspenso", SKIP_EXEMPT: "isento", SKIP_ALREADY: "já bloqueado"}


@dataclass(frozen=True)
class Verdict:
    """One contract judged by one rule on one day."""

    contract_id: int
    subscription_id: int
    client_name: str
    platform_name: str
    desired: AccessStatus
    oldest_due: date | None  # the oldest unpaid título's due date (None: none is open)
    days_overdue: int
    decision: str
    reason: str | None = None  # why it is skipped, in the operators' words

    @property
    def invoice_month(self) -> str:
        return self.oldest_due.strftime("%m/%Y") if self.oldest_due else "—"


@dataclass
class RuleOutcome:
    """What a rule did (or would do) on a day."""

    rule: BillingRule
    verdicts: list[Verdict] = field(default_factory=list)

    def of(self, decision: str) -> list[Verdict]:
        return [verdict for verdict in self.verdicts if verdict.decision == decision]

    @property
    def skipped_reasons(self) -> dict[str, int]:
        return dict(Counter(verdict.reason.split(" até ")[0] for verdict in self.of(Decision.SKIP)))


# -- the rules ----------------------------------------------------------------------------------


def rule_words(rule: BillingRule) -> str:
    """ "Manutenção de conexão, 15 dias — Bloqueio de TV"."""
    return f"{rule.rule_type.label}, {rule.days_overdue} dias — {rule.action.label}"


def active_rules() -> list[BillingRule]:
    return list(db.session.scalars(select(BillingRule).where(BillingRule.active).order_by(BillingRule.id)))


def target_of(rule: BillingRule) -> AccessStatus:
    return AccessStatus(rule.action.access_status)


def scope_platforms(rule: BillingRule) -> list[int]:
    """The platforms a rule acts at: its own, or every one of its action's plan type whose kind
    can hold the status it asks for."""
    if rule.platform_id is not None:
        return [rule.platform_id]
    target = target_of(rule)
    return [
        platform.id
        for platform in db.session.scalars(select(Platform))
        if kind_of(platform.kind).plan_type == rule.action.plan_type
        and target in kind_of(platform.kind).supported_statuses
    ]


# -- judging ------------------------------------------------------------------------------------


def _oldest_unpaid(before_or_on: date):
    """Per contract, its oldest unpaid título due on or before a day (the index on
    (paid_on, due_date) serves it)."""
    return (
        select(Invoice.contract_id, func.min(Invoice.due_date).label("oldest_due"))
        .where(Invoice.paid_on.is_(None), Invoice.due_date <= before_or_on)
        .group_by(Invoice.contract_id)
        .subquery()
    )


def judge(rule: BillingRule, day: date) -> RuleOutcome:
    """The verdict of ``rule`` on every contract it concerns on ``day``: one query for the
    overdue ones, one for its own blocks that may be lifted. Changes nothing."""
    outcome = RuleOutcome(rule)
    platforms = scope_platforms(rule)
    if not platforms:
        return outcome
    target = target_of(rule)
    oldest = _oldest_unpaid(day - timedelta(days=rule.days_overdue))
    rows = db.session.execute(
        select(
            Contract.id,
            Contract.status,
            Contract.exempt_until,
            Contract.exempt_reason,
            Subscription.id,
            Subscription.desired_status,
            Client.name,
            Platform.name,
            oldest.c.oldest_due,
        )
        .join(oldest, oldest.c.contract_id == Contract.id)
        .join(
            Subscription, (Subscription.contract_id == Contract.id) & (Subscription.platform_id == Contract.platform_id)
        )
        .join(Client, Client.id == Contract.client_id)
        .join(Platform, Platform.id == Subscription.platform_id)
        .where(
            Contract.status != ContractStatus.cancelled,
            Contract.plan_type == rule.action.plan_type,
            Subscription.platform_id.in_(platforms),
        )
        .order_by(Contract.id)
    )
    for contract_id, status, exempt_until, exempt_reason, sub_id, desired, client, platform, due in rows:
        desired = AccessStatus(desired)
        reason = None
        if status is ContractStatus.suspended or status == ContractStatus.suspended:
            reason = SKIP_SUSPENDED
        elif exempt_until is not None and exempt_until >= day:
            reason = f"{SKIP_EXEMPT} até {exempt_until:%d/%m/%Y}" + (f": {exempt_reason}" if exempt_reason else "")
        elif STRENGTH[desired] >= STRENGTH[target]:
            reason = SKIP_ALREADY
        outcome.verdicts.append(
            Verdict(
                contract_id,
                sub_id,
                client,
                platform,
                desired,
                due,
                (day - due).days,
                Decision.SKIP if reason else Decision.BLOCK,
                reason,
            )
        )
    if rule.unblock_on_payment:
        outcome.verdicts.extend(_liftable(rule, day))
    return outcome


def _liftable(rule: BillingRule, day: date) -> list[Verdict]:
    """This rule's blocks whose contract is no longer overdue past its days: to be lifted."""
    overdue = select(Invoice.contract_id).where(
        Invoice.paid_on.is_(None), Invoice.due_date <= day - timedelta(days=rule.days_overdue)
    )
    rows = db.session.execute(
        select(Contract.id, Subscription.id, Subscription.desired_status, Client.name, Platform.name)
        .join(Subscription, Subscription.contract_id == Contract.id)
        .join(Client, Client.id == Contract.client_id)
        .join(Platform, Platform.id == Subscription.platform_id)
        .where(
            Subscription.blocked_by == BlockOrigin.regua,
            Subscription.block_rule_id == rule.id,
            Contract.status == ContractStatus.active,
            Contract.id.not_in(overdue),
        )
        .order_by(Contract.id)
    )
    return [
        Verdict(contract_id, sub_id, client, platform, AccessStatus(desired), None, 0, Decision.UNBLOCK)
        for contract_id, sub_id, desired, client, platform in rows
    ]


def simulate(day: date | None = None) -> list[RuleOutcome]:
    """*Simular régua* / ``--dry-run``: every active rule's verdicts on ``day``; nothing written."""
    day = day or local_today()
    return [judge(rule, day) for rule in active_rules()]


SIMULATION_RANGE_DAYS = 366


def simulation_day(day: date | None) -> date:
    """The day *Simular régua* may judge: today by default, or up to a year before or after it."""
    today = local_today()
    if day is None:
        return today
    if abs((day - today).days) > SIMULATION_RANGE_DAYS:
        raise DomainError("Escolha um dia de até um ano antes ou depois de hoje.", "data")
    return day


@dataclass(frozen=True)
class SimulatedVerdict:
    """A line of *Simular régua*: one rule's verdict on one contract."""

    rule: BillingRule
    verdict: Verdict

    @property
    def reason_words(self) -> str:
        """Why it is skipped, as the page says it ("Isento até 09/11/2026: …", "Contrato suspenso")."""
        reason = SKIP_REASONS.get(self.verdict.reason or "", self.verdict.reason or "")
        return reason[:1].upper() + reason[1:]


def simulated_contracts(
    outcomes: list[RuleOutcome],
    *,
    rule_id: int | None = None,
    decision: str | None = None,
    contract_id: int | None = None,
    after_contract_id: int | None = None,
    limit: int = 50,
) -> list[list[SimulatedVerdict]]:
    """The simulation's lines, filtered by rule, decision and contract, grouped by contract (every
    rule's verdict on it together) in contract-number order: at most ``limit`` contracts after
    ``after_contract_id`` (the page's keyset)."""
    lines = sorted(
        (
            SimulatedVerdict(outcome.rule, verdict)
            for outcome in outcomes
            if rule_id is None or outcome.rule.id == rule_id
            for verdict in outcome.verdicts
            if (decision is None or verdict.decision == decision)
            and (contract_id is None or verdict.contract_id == contract_id)
            and (after_contract_id is None or verdict.contract_id > after_contract_id)
        ),
        key=lambda line: (line.verdict.contract_id, line.rule.id),
    )
    groups: list[list[SimulatedVerdict]] = []
    for line in lines:
        if groups and groups[-1][0].verdict.contract_id == line.verdict.contract_id:
            groups[-1].append(line)
        elif len(groups) == limit:
            break
        else:
            groups.append([line])
    return groups


# -- running ------------------------------------------------------------------------------------


class AlreadyRequested(DomainError):
    """Another scheduler, the CLI or an admin asked for the same day's runs at the same moment."""


def request_runs(
    actor: Actor, trigger: ReguaTrigger, day: date | None = None, *, deliver: bool = True
) -> list[ReguaRun]:
    """The day's run of every active rule that has not run that day, recorded — and sent to the
    workers once the caller commits. A rule whose run of that day failed goes again. Raises
    AlreadyRequested when someone asked at the same moment (the unique key said so: the caller
    rolls back, and nothing is done twice)."""
    day = day or local_today()
    runs = []
    for rule in active_rules():
        existing = db.session.scalar(select(ReguaRun).where(ReguaRun.day == day, ReguaRun.rule_id == rule.id))
        if existing is not None:
            if existing.status is OutboxStatus.failed:
                existing.status, existing.error, existing.finished_at = OutboxStatus.pending, None, None
                existing.deliveries += 1
                if deliver:
                    outbox.deliver(existing)
                runs.append(existing)
            continue
        runs.append(
            ReguaRun(
                day=day,
                rule_id=rule.id,
                rule_title=rule.title,
                trigger=trigger,
                status=OutboxStatus.pending,
                requested_by_id=actor.user.id if actor.user is not None else None,
                requested_by_name=actor.name,
            )
        )
        db.session.add(runs[-1])
    try:
        db.session.flush()
    except IntegrityError:
        raise AlreadyRequested(f"A régua de {day:%d/%m/%Y} já foi pedida por outra execução.") from None
    for run in runs:
        if deliver and run.deliveries == 0:
            outbox.deliver(run)
    return runs


def start(run_id: int, lease_seconds: float) -> ReguaRun | None:
    """A worker takes the run up (None: nothing to do — finished, or running elsewhere)."""
    run = db.session.get(ReguaRun, run_id, populate_existing=True)
    if run is None or run.status not in (OutboxStatus.pending, OutboxStatus.queued):
        return None
    outbox.take(run, lease_seconds)
    db.session.flush()
    return run


def _still_mine(run_id: int, attempt: int) -> ReguaRun | None:
    lock_row(ReguaRun, run_id)
    run = db.session.get(ReguaRun, run_id, populate_existing=True)
    return run if run is not None and run.status is OutboxStatus.running and run.attempts == attempt else None


def fail(run_id: int, attempt: int, message: str) -> None:
    run = _still_mine(run_id, attempt)
    if run is not None:
        outbox.end(run, OutboxStatus.failed)
        run.error = message
        db.session.flush()


def carry_out(run_id: int, attempt: int) -> RuleOutcome | None:
    """The run's rule on its day: blocks and unblocks written in bulk, the run finished with its
    counts, one audit line. None when the run is no longer this worker's, or its rule is gone."""
    run = _still_mine(run_id, attempt)
    if run is None:
        return None
    rule = db.session.get(BillingRule, run.rule_id) if run.rule_id else None
    if rule is None or not rule.active:
        outbox.end(run, OutboxStatus.failed)
        run.error = "A régua foi removida ou desativada antes da execução."
        return None
    return apply(run, rule)


def apply(run: ReguaRun, rule: BillingRule) -> RuleOutcome:
    """Judge and act (the body of a run, also what the CLI runs in its own process)."""
    outcome = judge(rule, run.day)
    _block(run, rule, outcome.of(Decision.BLOCK))
    for verdict in outcome.of(Decision.UNBLOCK):
        _lift(
            REGUA,
            db.session.get(Subscription, verdict.subscription_id),
            run.day,
            f"Desbloqueio automático pela Régua de Configuração ({rule_words(rule)}): nenhum título vencido há "
            f"{rule.days_overdue} dias ou mais.",
        )
    run.candidates = len(outcome.verdicts)
    run.blocked = len(outcome.of(Decision.BLOCK))
    run.unblocked = len(outcome.of(Decision.UNBLOCK))
    run.skipped = len(outcome.of(Decision.SKIP))
    run.skipped_reasons = outcome.skipped_reasons
    outbox.end(run, OutboxStatus.done)
    audit.record(
        REGUA if run.trigger is ReguaTrigger.cron else Actor(name=run.requested_by_name),
        "regua.run",
        f"Régua {rule_words(rule)} executada para {run.day:%d/%m/%Y}: "
        + ngettext("%(num)s bloqueio", "%(num)s bloqueios", run.blocked)
        + ", "
        + ngettext("%(num)s desbloqueio", "%(num)s desbloqueios", run.unblocked)
        + ", "
        + ngettext("%(num)s ignorado.", "%(num)s ignorados.", run.skipped),
        target=run,
    )
    db.session.flush()
    return outcome


def _chunks(items: list, size: int = WRITE_BATCH) -> Iterable[list]:
    for start_at in range(0, len(items), size):
        yield items[start_at : start_at + size]


def _block(run: ReguaRun, rule: BillingRule, verdicts: list[Verdict]) -> None:
    """Every block of the run, set-based: the subscribers' desired status, one background
    Operation each and one history line each, a statement per batch (no object per contract).
    The rows are made by the database from the batch's subscriber ids (INSERT … SELECT): only the
    ids travel, and the values shared by the batch, once."""
    if not verdicts:
        return
    target = target_of(rule)
    now = utcnow()
    words = rule_words(rule)
    operations, events = Operation.__table__, ContractEvent.__table__

    def same(column, value):
        return literal(value, column.type)

    for batch in _chunks(verdicts):
        ids = [verdict.subscription_id for verdict in batch]
        db.session.execute(
            update(Subscription)
            .where(Subscription.id.in_(ids))
            .values(
                desired_status=target.value,
                list_tab=ListTab.blocked,
                blocked_by=BlockOrigin.regua,
                block_rule_id=rule.id,
                block_run_id=run.id,
                updated_at=now,
            )
        )
        made = {
            "subscription_id": Subscription.id,
            "kind": same(operations.c.kind, OperationKind.set_status),
            "target_status": same(operations.c.target_status, target.value),
            "status": same(operations.c.status, OutboxStatus.pending),
            "attempts": same(operations.c.attempts, 0),
            "deliveries": same(operations.c.deliveries, 0),
            "background": same(operations.c.background, True),
            "regua_run_id": same(operations.c.regua_run_id, run.id),
            "requested_by_name": same(operations.c.requested_by_name, REGUA.name),
            "created_at": same(operations.c.created_at, now),
            "updated_at": same(operations.c.updated_at, now),
        }
        created = db.session.execute(
            insert(operations)
            .from_select(list(made), select(*made.values()).where(Subscription.id.in_(ids)))
            .returning(operations.c.id, operations.c.subscription_id)
        ).all()
        operation_of = {subscription_id: operation_id for operation_id, subscription_id in created}
        # One history line per block; its words differ only by the título, so one statement per
        # oldest due date in the batch (a handful: the due days of a month or two).
        lines: dict[date | None, tuple[Verdict, list[int]]] = {}
        for verdict in batch:
            lines.setdefault(verdict.oldest_due, (verdict, []))[1].append(operation_of[verdict.subscription_id])
        for verdict, operation_ids in lines.values():
            asked = (
                f"Bloqueio automático pela Régua de Configuração: {words}; título {verdict.invoice_month} "
                f"vencido há {verdict.days_overdue} dias."
            )
            line = {
                "contract_id": Subscription.contract_id,
                "created_at": same(events.c.created_at, now),
                "actor_name": same(events.c.actor_name, REGUA.name),
                "action": same(events.c.action, "regua_block"),
                "asked": same(events.c.asked, asked),
                "operation_id": operations.c.id,
                "details": same(events.c.details, {"run_id": run.id, "rule_id": rule.id}),
            }
            db.session.execute(
                insert(events).from_select(
                    list(line),
                    select(*line.values())
                    .select_from(operations)
                    .join(Subscription, Subscription.id == operations.c.subscription_id)
                    .where(operations.c.id.in_(operation_ids)),
                )
            )
        outbox.deliver_many(Operation, sorted(operation_of.values()), background=True)


# -- payments -----------------------------------------------------------------------------------


def applicable_status(
    contract: Contract, subscription: Subscription, day: date
) -> tuple[AccessStatus, BillingRule | None]:
    """The strongest block the active rules ask for this contract on ``day`` (active, with no
    rule, when none applies)."""
    overdue_since = db.session.scalar(
        select(func.min(Invoice.due_date)).where(Invoice.contract_id == contract.id, Invoice.paid_on.is_(None))
    )
    best: tuple[AccessStatus, BillingRule | None] = (AccessStatus.ACTIVE, None)
    if overdue_since is None:
        return best
    days = (day - overdue_since).days
    for rule in active_rules():
        if rule.days_overdue > days or contract.plan_type != rule.action.plan_type:
            continue
        if subscription.platform_id not in scope_platforms(rule):
            continue
        if STRENGTH[target_of(rule)] > STRENGTH[best[0]]:
            best = (target_of(rule), rule)
    return best


def after_payment(actor: Actor, invoice: Invoice, day: date) -> Operation | None:
    """In the payment's transaction: a block the régua made is lifted — down to what the rules
    still ask for (another título may still be overdue), or to active — when its rule says
    *desbloquear ao pagar*. An operator's block and a suspension stay as they are."""
    contract = invoice.contract
    subscription = contract.subscription
    if (
        subscription is None
        or contract.status is not ContractStatus.active
        or subscription.blocked_by is not BlockOrigin.regua
    ):
        return None
    rule = db.session.get(BillingRule, subscription.block_rule_id) if subscription.block_rule_id else None
    if rule is not None and not rule.unblock_on_payment:
        return None
    title = f"título {invoice.reference_month:%m/%Y}"
    return _lift(
        actor,
        subscription,
        day,
        f"Desbloqueio automático pelo pagamento do {title}"
        + (f" (Régua de Configuração: {rule_words(rule)})." if rule else "."),
    )


def _lift(actor: Actor, subscription: Subscription, day: date, asked: str) -> Operation | None:
    """The régua's block eased to what the rules ask for now; an Operation and a history line."""
    contract = subscription.contract
    wanted, rule = applicable_status(contract, subscription, day)
    current = AccessStatus(subscription.desired_status)
    if STRENGTH[wanted] >= STRENGTH[current]:
        return None  # the rules still ask for this block (or a stronger one)
    subscription.set_state(
        contract.status, wanted.value, origin=BlockOrigin.regua, rule_id=rule.id if rule else None, run_id=None
    )
    if wanted is not AccessStatus.ACTIVE and rule is not None:
        asked += f" O acesso fica em {wanted.label.lower()} pela régua {rule_words(rule)}."
    operation = Operation(
        subscription=subscription,
        kind=OperationKind.set_status,
        target_status=wanted.value,
        requested_by_name=actor.name,
        requested_by_id=actor.user.id if actor.user else None,
    )
    db.session.add(operation)
    outbox.deliver(operation)
    add_event(contract, actor, "regua_unblock", asked, operation=operation)
    return operation


# -- exemptions ---------------------------------------------------------------------------------

MAX_EXEMPTION_DAYS = 366


def set_exemption(actor: Actor, contract: Contract, until: date | None, reason: str | None) -> Contract:
    """*Não bloquear até*: the régua skips the contract up to ``until`` (inclusive), saying why."""
    lock_row(Contract, contract.id)
    db.session.refresh(contract)
    reason = " ".join((reason or "").split())
    today = local_today()
    if until is None:
        raise DomainError("Informe até quando a régua não deve bloquear (dd/mm/aaaa).", "until")
    if until < today:
        raise DomainError("A data já passou: informe hoje ou um dia à frente.", "until")
    if until > today + timedelta(days=MAX_EXEMPTION_DAYS):
        raise DomainError("No máximo um ano à frente.", "until")
    if not reason:
        raise DomainError("Informe o motivo (aparece na simulação e no histórico).", "reason")
    if len(reason) > 200:
        raise DomainError("O motivo pode ter no máximo 200 caracteres.", "reason")
    if contract.status is ContractStatus.cancelled:
        raise DomainError("O contrato está cancelado.")
    contract.exempt_until, contract.exempt_reason = until, reason
    add_event(contract, actor, "regua_exempt", f"Régua: não bloquear até {until:%d/%m/%Y}. Motivo: {reason}")
    db.session.flush()
    return contract


def clear_exemption(actor: Actor, contract: Contract) -> Contract:
    if contract.exempt_until is None:
        raise DomainError("O contrato não tem isenção da régua.")
    contract.exempt_until, contract.exempt_reason = None, None
    add_event(contract, actor, "regua_exempt_cleared", "Isenção da régua retirada: o contrato volta a ser avaliado.")
    db.session.flush()
    return contract


MAX_ATTEMPTS = 3
LOST = "O processo que executava a régua parou antes de terminar. Use Executar agora para tentar de novo."


def requeue_lost(now=None, run_ids: list[int] | None = None) -> list[ReguaRun]:
    """Runs whose worker died: sent again (running one again is harmless), failed after the last."""
    again, failed = outbox.lost_runs(ReguaRun, MAX_ATTEMPTS, now=now, row_ids=run_ids)
    for run in failed:
        run.error = LOST
    db.session.flush()
    return again


@dataclass(frozen=True)
class BlockInfo:
    """Who made the block a subscriber is under: the régua (which rule, on which day) or an
    operator (or a suspension)."""

    by_regua: bool
    rule_title: str | None = None
    day: str | None = None  # "dd/mm/aaaa": the run's day, or when the block was last changed
    unblock_on_payment: bool = False


def block_origin(subscription: Subscription | None) -> BlockInfo | None:
    """The origin of the subscriber's block (None while it is not blocked)."""
    if subscription is None or AccessStatus(subscription.desired_status) is AccessStatus.ACTIVE:
        return None
    if subscription.blocked_by is not BlockOrigin.regua:
        return BlockInfo(by_regua=False)
    rule = db.session.get(BillingRule, subscription.block_rule_id) if subscription.block_rule_id else None
    run = db.session.get(ReguaRun, subscription.block_run_id) if subscription.block_run_id else None
    title = rule.title if rule is not None else (run.rule_title if run is not None else None)
    day = f"{run.day:%d/%m/%Y}" if run is not None else local_datetime(subscription.updated_at, "%d/%m/%Y")
    return BlockInfo(True, title, day, bool(rule and rule.unblock_on_payment))


@dataclass(frozen=True)
class RunProgress:
    """How far the day's runs are: how many in each state."""

    total: int
    pending: int
    queued: int
    running: int
    done: int
    failed: int

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def unfinished(self) -> bool:
        return self.finished < self.total


def progress(runs: list[ReguaRun]) -> RunProgress:
    counts = Counter(run.status for run in runs)
    return RunProgress(
        len(runs),
        counts[OutboxStatus.pending],
        counts[OutboxStatus.queued],
        counts[OutboxStatus.running],
        counts[OutboxStatus.done],
        counts[OutboxStatus.failed],
    )


def runs_of(day: date | None = None, *, limit: int = 30) -> list[ReguaRun]:
    """The latest runs (of ``day``, when given), newest first."""
    query = select(ReguaRun).order_by(ReguaRun.id.desc()).limit(limit)
    if day is not None:
        query = query.where(ReguaRun.day == day)
    return list(db.session.scalars(query))


def describe_run(run: ReguaRun) -> str:
    when = local_datetime(run.finished_at or run.created_at)
    return f"{run.rule_title}, dia {run.day:%d/%m/%Y} — execução {run.trigger.label}, {when}"
