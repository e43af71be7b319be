"""Invoices (*títulos*): one per contract and month, generated from the contract's monthly value
(by ``flask invoices generate`` or the contract's button) and paid by *Baixar título*.

Decisions: only active contracts are billed (a suspended or cancelled one is not); a month is
billed when its due date falls on or after the contract's start (so the first título is never
overdue when it is made), whole (no pro rata); a due day past the month's end falls on its last
day. Days overdue are computed from the due date whenever they are asked for.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from panel.domain import regua
from panel.domain.common import Actor, DomainError, check_all, local_today, lock_row
from panel.domain.history import add_event
from panel.extensions import db
from panel.formats import money
from panel.models import Contract, ContractStatus, Invoice
from panel.models.types import utcnow

BATCH = 500  # contracts per transaction when billing everyone
EARLIEST_PAYMENT_DAYS = 366  # a payment date further before the due date is a typo
MAX_PAID_FACTOR = 10  # nor is ten times the título's value a payment of it


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_label(month: date) -> str:
    return month.strftime("%m/%Y")


def due_date(contract: Contract, month: date) -> date:
    last = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=min(contract.due_day, last))


def parse_month(text: str) -> date:
    """'2026-11' or '11/2026' → the month's first day."""
    for fmt in ("%Y-%m", "%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise DomainError("Mês inválido: use AAAA-MM (ex.: 2026-11).", "month")


def _billable(contract: Contract, month: date) -> bool:
    return contract.status is ContractStatus.active and due_date(contract, month) >= contract.start_date


def first_month(contract: Contract) -> date:
    """The first month billed: the start month if its due date is not before the start."""
    month = month_start(contract.start_date)
    if due_date(contract, month) >= contract.start_date:
        return month
    return (month + timedelta(days=31)).replace(day=1)


def _new_invoice(actor: Actor, contract: Contract, month: date) -> Invoice:
    invoice = Invoice(
        contract=contract, reference_month=month, due_date=due_date(contract, month), amount=contract.monthly_value
    )
    db.session.add(invoice)
    add_event(
        contract,
        actor,
        "invoice_created",
        f"Título {month_label(month)} gerado: {money(invoice.amount)}, vencimento {invoice.due_date:%d/%m/%Y}.",
    )
    return invoice


def can_bill(contract: Contract, day: date) -> bool:
    """Whether ``day``'s month may still get this contract's título (the button is offered)."""
    month = month_start(day)
    return (
        _billable(contract, month)
        and db.session.scalar(
            select(Invoice.id).where(Invoice.contract_id == contract.id, Invoice.reference_month == month)
        )
        is None
    )


def generate_for_contract(actor: Actor, contract: Contract, month: date | None = None) -> Invoice:
    """The contract's invoice for ``month`` (default: this month), refused when it exists."""
    month = month_start(month or local_today())
    if contract.status is not ContractStatus.active:
        raise DomainError(f"Só contratos ativos geram títulos (este está {contract.status.label.lower()}).")
    if not _billable(contract, month):
        raise DomainError(
            f"O contrato começa em {contract.start_date:%d/%m/%Y}: o primeiro título é o de "
            f"{month_label(first_month(contract))}."
        )
    exists = db.session.scalar(
        select(Invoice.id).where(Invoice.contract_id == contract.id, Invoice.reference_month == month)
    )
    if exists is not None:
        raise DomainError(f"O título de {month_label(month)} deste contrato já existe.")
    invoice = _new_invoice(actor, contract, month)
    try:
        db.session.flush()
    except IntegrityError:  # generated at the same moment by another request or the CLI
        raise DomainError(f"O título de {month_label(month)} deste contrato já existe.") from None
    return invoice


def generate_batch(actor: Actor, month: date, after_id: int = 0) -> tuple[int, int | None]:
    """The next ``BATCH`` active contracts (by id, after ``after_id``) without their invoice for
    ``month`` get it. Returns how many were made and the id to continue after (None: done). Safe
    to run again (it skips what exists); the caller commits each batch."""
    month = month_start(month)
    last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    billed = select(Invoice.contract_id).where(Invoice.reference_month == month)
    batch = list(
        db.session.scalars(
            select(Contract)
            .where(
                Contract.id > after_id,
                Contract.status == ContractStatus.active,
                Contract.start_date <= last_day,
                Contract.id.not_in(billed),
            )
            .order_by(Contract.id)
            .limit(BATCH)
        )
    )
    if not batch:
        return 0, None
    made = 0
    for contract in batch:
        if _billable(contract, month):  # its due day may still fall before the start
            _new_invoice(actor, contract, month)
            made += 1
    db.session.flush()
    return made, batch[-1].id


def pay(actor: Actor, invoice: Invoice, *, paid_on: date | None, paid_amount: Decimal | None) -> Invoice:
    """*Baixar título*: record the payment (the date it was paid and the amount received)."""
    # Two clicks at once: the second waits for the first and then sees the invoice paid.
    lock_row(Invoice, invoice.id)
    db.session.refresh(invoice)
    if invoice.paid:
        raise DomainError(f"Este título já foi baixado em {invoice.paid_on:%d/%m/%Y}.")

    def check_date() -> date:
        if paid_on is None:
            raise DomainError("Informe a data do pagamento (dd/mm/aaaa).", "paid_on")
        if paid_on > local_today():
            raise DomainError("A data do pagamento não pode estar no futuro.", "paid_on")
        if paid_on < invoice.due_date - timedelta(days=EARLIEST_PAYMENT_DAYS):
            raise DomainError("A data do pagamento está mais de um ano antes do vencimento: confira.", "paid_on")
        return paid_on

    def check_amount() -> Decimal:
        if paid_amount is None or paid_amount <= 0:
            raise DomainError("Informe o valor pago.", "paid_amount")
        if paid_amount.as_tuple().exponent < -2:
            raise DomainError("Informe o valor em reais, com até 2 casas decimais.", "paid_amount")
        if paid_amount < invoice.amount:
            raise DomainError(f"Baixa parcial não é aceita: o título vale {money(invoice.amount)}.", "paid_amount")
        if paid_amount > invoice.amount * MAX_PAID_FACTOR:
            raise DomainError(f"Valor muito acima do título ({money(invoice.amount)}): confira.", "paid_amount")
        return paid_amount

    when, amount = check_all(check_date, check_amount)
    invoice.paid_on, invoice.paid_amount = when, amount
    invoice.paid_by_name, invoice.paid_recorded_at = actor.name, utcnow()
    add_event(
        invoice.contract,
        actor,
        "invoice_paid",
        f"Título {month_label(invoice.reference_month)} baixado: {money(amount)} pago em {when:%d/%m/%Y}.",
    )
    db.session.flush()
    regua.after_payment(actor, invoice, local_today())  # in this same transaction
    db.session.flush()
    return invoice


def reverse_payment(actor: Actor, invoice: Invoice, reason: str | None) -> Invoice:
    """*Estornar baixa* (admins): the payment is undone, with a reason. Nothing is blocked now:
    the next run of the régua judges the contract again."""
    lock_row(Invoice, invoice.id)
    db.session.refresh(invoice)
    reason = " ".join((reason or "").split())
    if not invoice.paid:
        raise DomainError("Este título não está baixado.")
    if not reason:
        raise DomainError("Informe o motivo do estorno.", "reason")
    if len(reason) > 200:
        raise DomainError("O motivo pode ter no máximo 200 caracteres.", "reason")
    was = f"{money(invoice.paid_amount)} pago em {invoice.paid_on:%d/%m/%Y}"
    invoice.paid_on = invoice.paid_amount = invoice.paid_by_name = invoice.paid_recorded_at = None
    add_event(
        invoice.contract,
        actor,
        "invoice_reversed",
        f"Baixa do título {month_label(invoice.reference_month)} estornada ({was}). Motivo: {reason}",
    )
    db.session.flush()
    return invoice


def invoices_of(contract: Contract) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice).where(Invoice.contract_id == contract.id).order_by(Invoice.reference_month.desc())
        )
    )
