"""Contracts (*Painel do Cliente → Contratos*): *Novo contrato*, *Sincronizar*, *Suspender
contrato*, *Cancelar suspensão*, *Cancelar contrato*, and the subscriber actions Integradores
uses (partial block, total block, unblock).

Every action runs the same way: the transition table (``contract_rules.decide``) says whether
it is allowed and what it leads to; then one transaction records the new contract status and
the subscriber's desired status, an Operation for the platform when it must hear of it, and a
line in the contract history (the caller commits; the Operation then goes to the queue). No
platform is called here: the provisioning jobs run the Operations.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from panel.domain import fiscal, outbox, words
from panel.domain.common import Actor, DomainError, check_all, local_today, lock_row
from panel.domain.contract_rules import ContractAction, PlatformTraits, State, allowed, decide
from panel.domain.history import add_event
from panel.domain.kinds import kind_of
from panel.domain.plans import describe_line, plan_products
from panel.domain.vocabulary import AccessStatus
from panel.extensions import db
from panel.formats import money
from panel.models import (
    Client,
    CompositionMode,
    Contract,
    ContractStatus,
    ListTab,
    Operation,
    OperationKind,
    Plan,
    Platform,
    Subscription,
)
from panel.models.types import utcnow


def traits(platform: Platform) -> PlatformTraits:
    kind = kind_of(platform.kind)
    return PlatformTraits(platform.name, kind.supported_statuses, kind.reactivation_needs_unblock)


def state_of(contract: Contract) -> State:
    subscription = contract.subscription
    return State(contract.status, AccessStatus(subscription.desired_status) if subscription else None)


def allowed_actions(contract: Contract) -> set[ContractAction]:
    return allowed(state_of(contract), traits(contract.platform))


def _operation(actor: Actor, subscription: Subscription, kind: OperationKind, details: dict | None = None) -> Operation:
    operation = Operation(
        subscription=subscription,
        kind=kind,
        target_status=subscription.desired_status,
        details=details,
        requested_by_id=actor.user.id if actor.user is not None else None,
        requested_by_name=actor.name,
    )
    db.session.add(operation)
    outbox.deliver(operation)  # (once the caller commits)
    return operation


# -- new contract ---------------------------------------------------------------------------


def available_plans() -> list[Plan]:
    """The plans a new contract may use: active, at an active platform."""
    return list(
        db.session.scalars(select(Plan).join(Plan.platform).where(Plan.active, Platform.active).order_by(Plan.name))
    )


def _check_plan(plan_id: int | None) -> Plan:
    plan = db.session.get(Plan, plan_id) if plan_id else None
    if plan is None:
        raise DomainError("Escolha o plano do contrato.", "plan_id")
    if not plan.active:
        raise DomainError(f"O plano {plan.name} está desativado.", "plan_id")
    if not plan.platform.active:
        raise DomainError(f"A plataforma do plano ({plan.platform.name}) está desativada.", "plan_id")
    return plan


def _check_start(start_date: date | None) -> date:
    if start_date is None:
        raise DomainError("Informe a data de início (dd/mm/aaaa).", "start_date")
    today = local_today()
    if start_date > today + timedelta(days=366):
        raise DomainError("A data de início está mais de um ano à frente: confira.", "start_date")
    if start_date < date(1990, 1, 1):
        raise DomainError("A data de início é anterior a 1990: confira.", "start_date")
    return start_date


def _check_due_day(due_day: int | None) -> int:
    if due_day is None or not 1 <= due_day <= 31:
        raise DomainError("Informe o dia de vencimento, de 1 a 31.", "due_day")
    return due_day


def create_contract(
    actor: Actor, client: Client, *, plan_id: int | None, start_date: date | None, due_day: int | None
) -> Contract:
    """*Novo contrato*: the plan's terms copied onto the contract. Nothing is sent to the
    platform until *Sincronizar*."""
    if not client.active:
        raise DomainError("O cadastro do cliente está inativo: reative-o antes de fazer um contrato.")
    plan, start, due = check_all(
        lambda: _check_plan(plan_id), lambda: _check_start(start_date), lambda: _check_due_day(due_day)
    )
    products = plan_products(plan)
    contract = Contract(
        client=client,
        plan=plan,
        status=ContractStatus.active,
        start_date=start,
        due_day=due,
        plan_name=plan.name,
        plan_type=plan.plan_type,
        contract_months=plan.contract_months,
        monthly_value=plan.monthly_value,
        platform=plan.platform,
        composition=[{"service": c.service, "mode": c.mode, "amount": str(c.amount)} for c in plan.composition],
        product_codes=list(products.codes),
        base_codes=list(products.base_codes),
    )
    db.session.add(contract)
    db.session.flush()
    add_event(
        contract,
        actor,
        "created",
        f"Contrato criado com o plano {plan.name} ({money(plan.monthly_value)} por mês, "
        f"{plan.contract_months} meses), vencimento todo dia {due}.",
    )
    db.session.flush()
    return contract


# -- actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What an action did, for the page to say."""

    contract: Contract
    operation: Operation | None
    message: str
    # The access stays blocked until the Desbloqueio in Integradores (the page says so, with a link).
    needs_unblock: bool = False


def _check_sync(contract: Contract) -> None:
    """The seed's rules for a contract to be sent to its platform."""
    client, platform = contract.client, contract.platform
    kind = kind_of(platform.kind)
    if not platform.active:
        raise DomainError(f"A plataforma {platform.name} está desativada: reative-a em Configurações.")
    if not client.active:
        raise DomainError("O cadastro do cliente está inativo.")
    if not client.email:
        why = (
            f"na {platform.name}, o e-mail e o {client.kind.document_label} são o login e a senha do assinante"
            if kind.has_login
            else f"a {platform.name} o exige"
        )
        raise DomainError(f"Informe o e-mail do cliente antes de sincronizar: {why}.")
    if kind.one_contract_per_client:
        other = db.session.scalar(
            select(Subscription.contract_id).where(
                Subscription.platform_id == platform.id,
                Subscription.exclusive_client_id == client.id,
                Subscription.contract_id != contract.id,
            )
        )
        if other is not None:
            raise DomainError(
                f"Devido a políticas da {platform.name}, somente é possível sincronizar 1 único "
                f"contrato por assinante: o contrato {other} deste cliente já está sincronizado."
            )


def sync_problem(contract: Contract) -> str | None:
    """Why *Sincronizar* would be refused now (for the page to say before the click), if it would."""
    if contract.status is not ContractStatus.active:
        return None
    try:
        _check_sync(contract)
    except DomainError as error:
        return error.message
    return None


def _new_subscription(contract: Contract) -> Subscription:
    exclusive = kind_of(contract.platform.kind).one_contract_per_client
    subscription = Subscription(
        contract=contract,
        platform=contract.platform,
        desired_status=AccessStatus.ACTIVE.value,
        list_tab=ListTab.of(contract.status, AccessStatus.ACTIVE.value),
        external_ref=f"psva-{contract.id}-{secrets.token_hex(4)}",
        exclusive_client_id=contract.client_id if exclusive else None,
    )
    db.session.add(subscription)
    return subscription


def _asked(contract: Contract, action: ContractAction, before: State, after: State) -> str:
    platform = contract.platform.name
    if action is ContractAction.sync:
        first = before.desired is None
        return (
            f"Sincronização solicitada com {platform}"
            + (": criar o assinante" if first else "")
            + f"; acesso: {words.access_word(after.desired, contract.platform.kind)}."
        )
    if action is ContractAction.suspend:
        return "Contrato suspenso" + (f"; acesso bloqueado na {platform}." if after.desired else ".")
    if action is ContractAction.reactivate:
        if before.desired is None:
            return "Suspensão cancelada: contrato ativo."
        if after.desired == before.desired:
            return (
                f"Suspensão cancelada: contrato ativo. O acesso na {platform} segue bloqueado até o "
                "Desbloqueio dos pontos deste contrato (Integradores)."
            )
        return f"Suspensão cancelada: contrato ativo; acesso liberado na {platform}."
    if action is ContractAction.cancel:
        return "Contrato cancelado" + (f"; acesso cancelado na {platform}." if after.desired else ".")
    # "Bloqueio total solicitado na ITTV", "Bloqueio solicitado na Skeelo" (no partial block there).
    word = words.request_word(OperationKind.set_status, after.desired, contract.platform.kind)
    return f"{word} solicitado na {platform}."


_MESSAGES = {
    ContractAction.sync: "Sincronização solicitada.",
    ContractAction.suspend: "Contrato suspenso.",
    ContractAction.reactivate: "Suspensão cancelada: contrato ativo.",
    ContractAction.cancel: "OK! Contrato cancelado com sucesso.",
    ContractAction.partial_block: "Bloqueio parcial solicitado.",
    ContractAction.block: "Bloqueio total solicitado.",
    ContractAction.unblock: "Desbloqueio solicitado.",
}


def _apply(actor: Actor, contract: Contract, action: ContractAction) -> Result:
    """One action, in the caller's transaction (nothing committed); DomainError when refused."""
    # Two clicks at once apply one after the other, the second from the state the first left.
    lock_row(Contract, contract.id)
    db.session.refresh(contract)
    before = state_of(contract)
    outcome = decide(before, action, traits(contract.platform))
    if action is ContractAction.sync:
        _check_sync(contract)
    subscription = contract.subscription
    if subscription is None and outcome.state.desired is not None:
        subscription = _new_subscription(contract)
    if outcome.state.contract != before.contract:
        contract.status = outcome.state.contract
        contract.status_changed_at = utcnow()
    if subscription is not None:
        subscription.set_state(contract.status, outcome.state.desired.value)
        if outcome.state.contract is ContractStatus.cancelled:
            subscription.exclusive_client_id = None  # a new contract of this client may be synced
    operation = _operation(actor, subscription, outcome.operation) if outcome.operation else None
    db.session.flush()
    add_event(contract, actor, action.value, _asked(contract, action, before, outcome.state), operation=operation)
    message = _MESSAGES[action]
    if action is ContractAction.block and AccessStatus.PARTIAL_BLOCK not in traits(contract.platform).supported:
        message = "Bloqueio solicitado."  # no partial block there: "total" would mean nothing
    needs_unblock = action is ContractAction.reactivate and subscription is not None and operation is None
    return Result(contract, operation, message, needs_unblock=needs_unblock)


def _conflict(action: ContractAction, platform_name: str) -> DomainError:
    if action is ContractAction.sync:  # another contract of this client was synced at the same moment
        return DomainError(
            f"Devido a políticas da {platform_name}, somente é possível sincronizar 1 único contrato por assinante."
        )
    return DomainError("O contrato mudou ao mesmo tempo em outra tela: confira e tente de novo.")


def act(actor: Actor, contract: Contract, action: ContractAction | str) -> Result:
    """Apply one action to a contract (or refuse it with a DomainError); the platform's
    operation goes to the workers once the caller commits."""
    action = ContractAction(action)
    platform_name = contract.platform.name
    try:
        result = _apply(actor, contract, action)
        db.session.flush()
    except IntegrityError:
        raise _conflict(action, platform_name) from None
    return result


@dataclass(frozen=True)
class BulkResult:
    results: list[Result]
    refused: list[tuple[int, str]]  # (contract number, why)


BULK_LIMIT = 500


def act_many(actor: Actor, contract_ids: list[int], action: ContractAction | str) -> BulkResult:
    """The same action on several contracts (Integradores' selection): every one the rules
    accept is recorded in one transaction, and their operations go to the queue together."""
    action = ContractAction(action)
    ids = list(dict.fromkeys(contract_ids))
    if not ids:
        raise DomainError("Selecione ao menos um assinante.")
    if len(ids) > BULK_LIMIT:
        raise DomainError(f"Selecione no máximo {BULK_LIMIT} assinantes por vez.")
    results, refused = [], []
    try:
        for contract_id in sorted(ids):  # always the same order: two bulk requests cannot deadlock
            contract = db.session.get(Contract, contract_id)
            if contract is None:
                refused.append((contract_id, "contrato não encontrado."))
                continue
            try:
                results.append(_apply(actor, contract, action))
            except DomainError as error:
                refused.append((contract_id, error.message))
        db.session.flush()
    except IntegrityError:
        raise DomainError("Os contratos mudaram ao mesmo tempo em outra tela: nada foi feito; tente de novo.") from None
    return BulkResult(results, refused)


# -- login data (ITTV logs subscribers in with the client's e-mail and document) --------------


def _login_subscriptions(client: Client, fields: Iterable[str] = ("email", "document")) -> list[Subscription]:
    """The client's live subscriptions at platforms that follow one of ``fields`` (their login
    or their key)."""
    subscriptions = db.session.scalars(
        select(Subscription)
        .join(Subscription.contract)
        .join(Subscription.platform)
        .where(
            Contract.client_id == client.id,
            Contract.status != ContractStatus.cancelled,
        )
    )
    wanted = set(fields)
    return [s for s in subscriptions if wanted & set(kind_of(s.platform.kind).followed_fields)]


def exclusive_syncs(client: Client) -> list[Subscription]:
    """The client's synced contracts at platforms that take one per client (ITTV): another
    contract there cannot be synced while one of these is not cancelled."""
    return list(db.session.scalars(select(Subscription).where(Subscription.exclusive_client_id == client.id)))


def synced_with_login(client: Client) -> bool:
    return bool(_login_subscriptions(client, ("email",)))


def schedule_login_update(actor: Actor, client: Client, fields: list[str]) -> list[Operation]:
    """In the caller's transaction: one login-data Operation per synced contract at a platform
    where the client logs in with (or is known by) the changed data, carrying only those fields."""
    names = {"email": "e-mail", "document": client.kind.document_label}
    operations = []
    for subscription in _login_subscriptions(client, fields):
        sent = [field for field in fields if field in kind_of(subscription.platform.kind).followed_fields]
        changed = " e ".join(names[field] for field in sent)
        operation = _operation(actor, subscription, OperationKind.update_login, {"fields": sent})
        db.session.flush()
        add_event(
            subscription.contract,
            actor,
            "update_login",
            f"Cadastro do cliente alterado ({changed}): atualização do login na "
            f"{subscription.platform.name} solicitada.",
            operation=operation,
        )
        operations.append(operation)
    return operations


# -- reading --------------------------------------------------------------------------------


def composition_of(contract: Contract) -> list[str]:
    """The contract's fiscal composition as operators read it ("SCM R$ 29,90")."""
    return [
        describe_line(fiscal.Line(c["service"], CompositionMode(c["mode"]), Decimal(c["amount"])))
        for c in contract.composition
    ]
