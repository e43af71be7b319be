"""Financeiro → Títulos: every título by situation, filtered, a page at a time, with the totals of
the filter.

- *Em aberto*: unpaid and not yet due — due today or later, in the operators' day
  (``local_today``: a título due today is not overdue until tomorrow, as ``Invoice.days_overdue``
  says);
- *Vencidos*: unpaid and past due (due before today);
- *Pagos*: paid (*Baixar título*), whatever the due date.

Orders and keysets (no OFFSET, no COUNT of the list):
- Em aberto and Vencidos: the oldest due date first (the most overdue on top of Vencidos, the
  next to fall due on top of Em aberto), then the título's id — the key is (due_date, id);
- Pagos: the latest payment first, then the newest id — the key is (paid_on, id).
A page's link carries only the last título's id (``?depois=<id>``); its due date (or payment date)
is read back by primary key, so the URL stays one number. The (paid_on, due_date) index serves
both orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

from panel.domain.common import local_today
from panel.extensions import db
from panel.models import Client, Contract, Invoice, Platform

OPEN = "abertos"
OVERDUE = "vencidos"
PAID = "pagos"
TABS = {OPEN: "Em aberto", OVERDUE: "Vencidos", PAID: "Pagos"}
MAX_DAYS_OVERDUE = 3650  # a filter "at least N days overdue" beyond ten years is a typo


@dataclass(frozen=True)
class TitleFilter:
    """What the list shows: a tab and the optional filters. ``min_days_overdue`` applies to
    *Vencidos* only (a título in the other tabs is not overdue)."""

    tab: str = OPEN
    today: date | None = None  # the operators' day (default: local_today())
    due_from: date | None = None
    due_to: date | None = None
    min_days_overdue: int | None = None
    platform_id: int | None = None
    plan_id: int | None = None

    @property
    def day(self) -> date:
        return self.today or local_today()


@dataclass(frozen=True)
class TitleRow:
    invoice: Invoice
    contract_id: int
    client_id: int
    client_name: str
    client_document: str
    plan_name: str
    platform_name: str
    days_overdue: int  # 0 when paid or not yet due


@dataclass(frozen=True)
class Totals:
    count: int
    amount: Decimal  # the títulos' value
    paid_amount: Decimal  # what was received (Pagos)


def _conditions(filters: TitleFilter) -> list:
    today = filters.day
    if filters.tab == PAID:
        conditions = [Invoice.paid_on.is_not(None)]
    elif filters.tab == OVERDUE:
        conditions = [Invoice.paid_on.is_(None), Invoice.due_date < today]
        if filters.min_days_overdue:
            days = min(filters.min_days_overdue, MAX_DAYS_OVERDUE)
            conditions.append(Invoice.due_date <= today - timedelta(days=days))
    else:
        conditions = [Invoice.paid_on.is_(None), Invoice.due_date >= today]
    if filters.due_from is not None:
        conditions.append(Invoice.due_date >= filters.due_from)
    if filters.due_to is not None:
        conditions.append(Invoice.due_date <= filters.due_to)
    if filters.platform_id is not None:
        conditions.append(Contract.platform_id == filters.platform_id)
    if filters.plan_id is not None:
        conditions.append(Contract.plan_id == filters.plan_id)
    return conditions


def _order(filters: TitleFilter) -> tuple:
    if filters.tab == PAID:
        return Invoice.paid_on.desc(), Invoice.id.desc()
    return Invoice.due_date.asc(), Invoice.id.asc()


def _after(filters: TitleFilter, after_id: int):
    """The keyset condition: the rows after título ``after_id`` in the tab's order (None: the
    título is gone, or no longer fits the order — the first page then)."""
    key = db.session.execute(select(Invoice.due_date, Invoice.paid_on).where(Invoice.id == after_id)).first()
    if key is None:
        return None
    due, paid_on = key
    if filters.tab == PAID:
        if paid_on is None:
            return None
        return or_(Invoice.paid_on < paid_on, and_(Invoice.paid_on == paid_on, Invoice.id < after_id))
    return or_(Invoice.due_date > due, and_(Invoice.due_date == due, Invoice.id > after_id))


def page(filters: TitleFilter, *, after_id: int | None = None, limit: int = 50) -> list[TitleRow]:
    """One page of the tab, in its order, after título ``after_id``: one query, joined to the
    contract, client and platform."""
    query = (
        select(Invoice, Contract.id, Client.id, Client.name, Client.document, Contract.plan_name, Platform.name)
        .join(Contract, Contract.id == Invoice.contract_id)
        .join(Client, Client.id == Contract.client_id)
        .join(Platform, Platform.id == Contract.platform_id)
        .where(*_conditions(filters))
        .order_by(*_order(filters))
        .limit(limit)
    )
    if after_id is not None:
        after = _after(filters, after_id)
        if after is not None:
            query = query.where(after)
    today = filters.day
    return [
        TitleRow(invoice, contract_id, client_id, name, document, plan, platform, invoice.days_overdue(today))
        for invoice, contract_id, client_id, name, document, plan, platform in db.session.execute(query)
    ]


def totals(filters: TitleFilter) -> Totals:
    """How many títulos the filter finds and what they add up to: one aggregate query."""
    query = select(func.count(Invoice.id), func.sum(Invoice.amount), func.sum(Invoice.paid_amount)).where(
        *_conditions(filters)
    )
    if filters.platform_id is not None or filters.plan_id is not None:
        query = query.join(Contract, Contract.id == Invoice.contract_id)
    count, amount, paid = db.session.execute(query).one()
    return Totals(count or 0, amount or Decimal("0.00"), paid or Decimal("0.00"))
