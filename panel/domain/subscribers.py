"""Integradores' subscriber lists (*Assinantes ativos / bloqueados / cancelados ou suspensos*):
queries only, nothing changes here (the actions are ``contracts.act`` / ``act_many``).

The lists are read for platforms of one area (TV/OTT operadoras, SVA fornecedores), one tab
(``Subscription.list_tab``), newest first, paged by keyset on the subscription's id. They are
built to stay fast with a million subscribers: the page's ids come from the
``(platform_id, list_tab, id)`` index alone — one ordered, limited range per platform, merged
here — and only those rows are then joined to their contract, client and last operation for
display. No OFFSET and no COUNT (the tabs' numbers come from the counters the database keeps:
``tab_counts``). A search (name, e-mail, CPF/CNPJ, contract number) joins the
client in the id query, the way the Painel do Cliente's search does.

A subscriber and its operations are always read by one statement (``rows_for``, ``box``): the
worker commits an operation's end and the status the platform confirmed together, and two reads
could fall on either side of that commit — the request shown *Concluída* next to the access
"ainda não confirmada", and nothing left to follow. One statement sees one moment of the database
(on PostgreSQL and SQLite alike), and refreshes the objects the session already holds.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from panel.domain import tab_counts as tab_counters
from panel.domain.clients import matching
from panel.domain.contract_rules import SUBSCRIBER_ACTIONS, ContractAction
from panel.domain.kinds import kind_of, kinds_for_plan_type
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


def _with_relations(query):
    """The subscriber's contract, client and platforms joined in (a page's rows then read them
    without one query each); objects the session holds are refreshed from this read."""
    contract = joinedload(Subscription.contract)
    return query.options(
        joinedload(Subscription.platform),
        contract.joinedload(Contract.client),
        contract.joinedload(Contract.platform),
        # contract.subscription (and so allowed_actions) reads these; joined, not selected apart,
        # so that no later statement refreshes the subscriber with another moment's state
        contract.joinedload(Contract.subscriptions),
    ).execution_options(populate_existing=True)


def load_subscriptions(subscription_ids) -> dict[int, Subscription]:
    """These subscriptions with their contract, client and platform, in one query."""
    if not subscription_ids:
        return {}
    query = select(Subscription).where(Subscription.id.in_(set(subscription_ids)))
    return {s.id: s for s in db.session.scalars(_with_relations(query)).unique()}


def load_operations(operation_ids) -> list[Operation]:
    """These operations, newest first, each with its subscriber, contract, client and platform:
    two statements whatever their number (Operações' rows)."""
    if not operation_ids:
        return []
    found = list(db.session.scalars(select(Operation).where(Operation.id.in_(set(operation_ids)))))
    attach_subscriptions(found)
    return sorted(found, key=lambda operation: operation.id, reverse=True)


def attach_subscriptions(operations: list[Operation]) -> None:
    """Give these operations their subscribers (with contract, client and platform) in one
    query. Set on each operation, not merely left in the session: its identity map holds objects
    weakly, and a page would otherwise read some of them again one by one."""
    loaded = load_subscriptions({operation.subscription_id for operation in operations})
    for operation in operations:
        set_committed_value(operation, "subscription", loaded[operation.subscription_id])


def rows_for(subscription_ids: list[int]) -> list[Row]:
    """The rows for these subscriptions, in the order given (unknown ids are left out): each
    subscriber with its contract, client, platform and latest operation, all read by one
    statement (one moment of the database)."""
    ids = set(subscription_ids)
    if not ids:
        return []
    earlier = aliased(Operation)
    latest = (
        select(earlier.subscription_id, func.max(earlier.id).label("id"))
        .where(earlier.subscription_id.in_(ids))
        .group_by(earlier.subscription_id)
        .subquery("latest")
    )
    query = (
        select(Subscription, Operation)
        .outerjoin(latest, latest.c.subscription_id == Subscription.id)
        .outerjoin(Operation, Operation.id == latest.c.id)
        .where(Subscription.id.in_(ids))
    )
    found = {
        subscription.id: Row(subscription, operation)
        for subscription, operation in db.session.execute(_with_relations(query)).unique()
    }
    return [found[sid] for sid in dict.fromkeys(subscription_ids) if sid in found]


def page(
    platform_ids: list[int], tab: ListTab, *, text: str = "", before_id: int | None = None, limit: int = PAGE_SIZE
) -> list[Row]:
    """Up to ``limit`` subscribers of these platforms in ``tab``, newest first, older than
    ``before_id`` when given; ``text`` searches them."""
    if not platform_ids:
        return []
    text = " ".join(without_control_characters(text).split())  # NUL: PostgreSQL refuses it
    return rows_for(_page_ids(platform_ids, tab, text, before_id, limit))


class ListedRow(NamedTuple):
    """One subscriber of a list as plain values (``listed_rows``)."""

    id: int  # the subscription's
    contract_id: int
    client_id: int
    client_name: str
    document: str
    email: str | None
    plan_name: str
    platform_name: str
    desired_status: str
    remote_status: str | None
    contract_status: str
    op_kind: str | None  # its latest operation's (None without one)
    op_target: str | None
    op_status: str | None
    op_created_at: datetime | None
    platform_kind: str = ""  # whose words name the statuses (Skeelo's "Bloqueado")


def listed_rows(
    platform_ids: list[int], tab: ListTab, *, text: str = "", before_id: int | None = None, limit: int = PAGE_SIZE
) -> list[ListedRow]:
    """The rows ``page`` lists, as plain values instead of objects (an export writes hundreds of
    thousands: building the ORM objects cost most of its time), newest first.

    Read table by table, each by primary key (``IN`` the batch's ids), not in one join: with a
    thousand ids PostgreSQL's planner hash-joins the contracts and clients by scanning them whole,
    a cost that grows with the table (the export got slower per row at 100k than at 10k)."""
    if not platform_ids:
        return []
    text = " ".join(without_control_characters(text).split())
    ids = _page_ids(platform_ids, tab, text, before_id, limit)
    if not ids:
        return []
    subscriptions = db.session.execute(
        select(
            Subscription.id,
            Subscription.contract_id,
            Subscription.platform_id,
            Subscription.desired_status,
            Subscription.remote_status,
        ).where(Subscription.id.in_(ids))
    ).all()
    contracts = {
        row.id: row
        for row in db.session.execute(
            select(Contract.id, Contract.client_id, Contract.plan_name, Contract.status).where(
                Contract.id.in_({row.contract_id for row in subscriptions})
            )
        )
    }
    clients = {
        row.id: row
        for row in db.session.execute(
            select(Client.id, Client.name, Client.document, Client.email).where(
                Client.id.in_({row.client_id for row in contracts.values()})
            )
        )
    }
    platforms = {
        row.id: row
        for row in db.session.execute(
            select(Platform.id, Platform.name, Platform.kind).where(Platform.id.in_(platform_ids))
        )
    }
    latest_ids = db.session.scalars(
        select(func.max(Operation.id)).where(Operation.subscription_id.in_(ids)).group_by(Operation.subscription_id)
    ).all()
    operations = {
        row.subscription_id: row
        for row in db.session.execute(
            select(
                Operation.subscription_id,
                Operation.kind,
                Operation.target_status,
                Operation.status,
                Operation.created_at,
            ).where(Operation.id.in_(latest_ids))
        )
    }
    rows = []
    for subscription in subscriptions:
        contract = contracts[subscription.contract_id]
        client = clients[contract.client_id]
        operation = operations.get(subscription.id)
        rows.append(
            ListedRow(
                subscription.id,
                contract.id,
                client.id,
                client.name,
                client.document,
                client.email,
                contract.plan_name,
                platforms[subscription.platform_id].name if subscription.platform_id in platforms else "",
                subscription.desired_status,
                subscription.remote_status,
                contract.status,
                operation.kind if operation else None,
                operation.target_status if operation else None,
                operation.status if operation else None,
                operation.created_at if operation else None,
                platforms[subscription.platform_id].kind if subscription.platform_id in platforms else "",
            )
        )
    return sorted(rows, key=lambda row: row.id, reverse=True)


def tab_counts(platform_ids: list[int], *, text: str = "") -> dict[ListTab, int]:
    """Each tab's number of subscribers at these platforms: the maintained counters
    (panel.domain.tab_counts), or with a search the count of its result."""
    text = " ".join(without_control_characters(text).split())
    if text:
        return tab_counters.search_totals(platform_ids, _search_condition(text))
    return tab_counters.tab_totals(platform_ids)


class Owner(NamedTuple):
    """Whose a subscriber is, as plain values (``owners``)."""

    contract_id: int
    client_id: int
    client_name: str
    document: str
    platform_name: str
    platform_kind: str = ""


def owners(subscription_ids) -> dict[int, Owner]:
    """Each subscriber's contract, client and platform, by the subscription's id: read table by
    table by primary key, as ``listed_rows`` (an export's batch of operations)."""
    ids = set(subscription_ids)
    if not ids:
        return {}
    subscriptions = db.session.execute(
        select(Subscription.id, Subscription.contract_id, Subscription.platform_id).where(Subscription.id.in_(ids))
    ).all()
    contracts = dict(
        db.session.execute(
            select(Contract.id, Contract.client_id).where(Contract.id.in_({row.contract_id for row in subscriptions}))
        ).all()
    )
    clients = {
        row.id: row
        for row in db.session.execute(
            select(Client.id, Client.name, Client.document).where(Client.id.in_(set(contracts.values())))
        )
    }
    platforms = {
        row.id: row
        for row in db.session.execute(
            select(Platform.id, Platform.name, Platform.kind).where(
                Platform.id.in_({row.platform_id for row in subscriptions})
            )
        )
    }
    found = {}
    for row in subscriptions:
        client = clients[contracts[row.contract_id]]
        platform = platforms[row.platform_id]
        found[row.id] = Owner(row.contract_id, client.id, client.name, client.document, platform.name, platform.kind)
    return found


@dataclass(frozen=True)
class Box:
    """The contract page's subscriber box: the subscriber and its latest requests, newest
    first, read together (``box``)."""

    subscription: Subscription
    recent: list[Operation]

    @property
    def latest(self) -> Operation | None:
        return self.recent[0] if self.recent else None

    @property
    def unfinished(self) -> bool:
        """A request it shows is still on its way: the page follows the box until none is (the
        access it shows is then the one the last of them recorded)."""
        return any(not operation.status.finished for operation in self.recent)


RECENT = 3  # the requests the box shows


def box(subscription_id: int, limit: int = RECENT) -> Box | None:
    """The subscriber and its ``limit`` latest operations, read by one statement; None when
    there is no such subscriber."""
    earlier = aliased(Operation)
    recent_ids = (
        select(earlier.id).where(earlier.subscription_id == subscription_id).order_by(earlier.id.desc()).limit(limit)
    )
    query = (
        select(Subscription, Operation)
        .outerjoin(Operation, and_(Operation.subscription_id == Subscription.id, Operation.id.in_(recent_ids)))
        .where(Subscription.id == subscription_id)
        .order_by(Operation.id.desc())
    )
    found = db.session.execute(_with_relations(query)).unique().all()
    if not found:
        return None
    return Box(found[0][0], [operation for _, operation in found if operation is not None])
