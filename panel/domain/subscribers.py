"""Integradores' subscriber lists (*Assinantes ativos / bloqueados / cancelados ou suspensos*):
queries only, nothing changes here (the actions are ``contracts.act`` / ``act_many``).

The lists are read for platforms of one area (TV/OTT operadoras, SVA fornecedores), one tab
(``Subscription.list_tab``), newest first, paged by keyset on the subscription's id. They are
built to stay fast with a million subscribers: the page's ids come from the
``(platform_id, list_tab, id)`` index alone — one ordered, limited range per platform, merged
here — and only those rows are then joined to their contract, client and last operation for
display. No OFFSET and no COUNT. A search (name, e-mail, CPF/CNPJ, contract number) joins the
client in the id query, the way the Painel do Cliente's search does.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from panel.domain.clients import matching
from panel.domain.contract_rules import SUBSCRIBER_ACTIONS, ContractAction
from panel.domain.kinds import kind_of, kinds_for_plan_type
from panel.domain.operations import latest_ids_query
from panel.extensions import db
from panel.inputs import without_control_characters
from panel.models import Client, Contract, ListTab, Operation, OperationStatus, Platform, Subscription

PAGE_SIZE = 50


def area_platforms(plan_type: str) -> list[Platform]:
    """The platforms whose kind serves ``plan_type`` ('tv_ott': ITTV; 'sva': Skeelo), active
    ones first (an inactive one still has subscribers to look after)."""
    kinds = [kind.name for kind in kinds_for_plan_type(plan_type)]
    return list(
        db.session.scalars(
            select(Platform).where(Platform.kind.in_(kinds)).order_by(Platform.active.desc(), Platform.name)
        )
    )


def actions_for(platforms: list[Platform]) -> set[ContractAction]:
    """The subscriber actions at least one of these platforms can take (Skeelo has no partial
    block): the actions a list offers."""
    supported = set().union(*(kind_of(platform.kind).supported_statuses for platform in platforms))
    return {action for action, status in SUBSCRIBER_ACTIONS.items() if status in supported}


@dataclass(frozen=True)
class Row:
    """One line of a list: the subscriber, what it belongs to, and its latest request."""

    subscription: Subscription
    operation: Operation | None  # the latest one asked for this subscriber

    @property
    def contract(self) -> Contract:
        return self.subscription.contract

    @property
    def client(self) -> Client:
        return self.subscription.contract.client

    @property
    def platform(self) -> Platform:
        return self.subscription.platform

    @property
    def unfinished(self) -> bool:
        """Its latest request is still on its way (the page follows it)."""
        return self.operation is not None and not self.operation.status.finished

    @property
    def failed(self) -> bool:
        return self.operation is not None and self.operation.status is OperationStatus.failed

    @property
    def pending(self) -> bool:
        """The platform has not confirmed what the panel wants, or its latest request is not
        done: shown as pending with the request's state."""
        return not self.subscription.in_step or self.unfinished or self.failed


def _search_condition(text: str):
    """The Painel do Cliente's search rules, on the subscriber's client and contract."""
    conditions, number = matching(text)
    if number is not None:
        conditions.append(Contract.id == number)
    return or_(*conditions)


def _page_ids(platform_ids: list[int], tab: ListTab, text: str, before_id: int | None, limit: int) -> list[int]:
    def ranged(query):
        query = query.where(Subscription.list_tab == tab.value)
        if before_id is not None:
            query = query.where(Subscription.id < before_id)
        return query.order_by(Subscription.id.desc()).limit(limit)

    if text:
        query = (
            select(Subscription.id)
            .join(Contract, Contract.id == Subscription.contract_id)
            .join(Client, Client.id == Contract.client_id)
            .where(Subscription.platform_id.in_(platform_ids), _search_condition(text))
        )
        return list(db.session.scalars(ranged(query)))
    # One index range per platform (an IN list would make the database sort every match), the
    # newest ``limit`` of them all taken here.
    ranges = [
        list(db.session.scalars(ranged(select(Subscription.id).where(Subscription.platform_id == pid))))
        for pid in platform_ids
    ]
    return list(heapq.merge(*ranges, reverse=True))[:limit]


def latest_operations(subscription_ids: list[int]) -> dict[int, Operation]:
    """The latest operation of each subscriber, by subscription id."""
    if not subscription_ids:
        return {}
    latest = latest_ids_query(list(subscription_ids))
    return {op.subscription_id: op for op in db.session.scalars(select(Operation).where(Operation.id.in_(latest)))}


def load_subscriptions(subscription_ids) -> dict[int, Subscription]:
    """These subscriptions with their contract, client and platform, in a few queries (a page's
    rows then read them without one query each)."""
    if not subscription_ids:
        return {}
    contract = joinedload(Subscription.contract)
    return {
        s.id: s
        for s in db.session.scalars(
            select(Subscription)
            .where(Subscription.id.in_(set(subscription_ids)))
            .options(
                joinedload(Subscription.platform),
                contract.joinedload(Contract.client),
                contract.joinedload(Contract.platform),
                # contract.subscription (and so allowed_actions) reads these
                contract.selectinload(Contract.subscriptions),
            )
        ).unique()
    }


def rows_for(subscription_ids: list[int]) -> list[Row]:
    """The rows for these subscriptions, in the order given."""
    loaded = load_subscriptions(subscription_ids)
    operations = latest_operations(list(loaded))
    return [Row(loaded[sid], operations.get(sid)) for sid in subscription_ids if sid in loaded]


def page(
    platform_ids: list[int], tab: ListTab, *, text: str = "", before_id: int | None = None, limit: int = PAGE_SIZE
) -> list[Row]:
    """Up to ``limit`` subscribers of these platforms in ``tab``, newest first, older than
    ``before_id`` when given; ``text`` searches them."""
    if not platform_ids:
        return []
    text = " ".join(without_control_characters(text).split())  # NUL: PostgreSQL refuses it
    return rows_for(_page_ids(platform_ids, tab, text, before_id, limit))


def row(subscription: Subscription) -> Row:
    """One subscriber's row (the state cell a page polls)."""
    return Row(subscription, latest_operations([subscription.id]).get(subscription.id))
