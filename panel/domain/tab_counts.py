"""How many subscribers each platform has in each Integradores tab (*ativos / bloqueados /
cancelados ou suspensos*), from the counters the database triggers keep
(panel.models.licence): a SUM over a few rows per platform, whatever the number of subscribers —
never a scan of ``subscriptions`` per page view.

``compact`` (rq cron, every minute) folds the +1/-1 rows written since into one row per platform
and tab. It deletes exactly the rows it sums, in one statement on PostgreSQL, so rows inserted by
workers meanwhile are neither lost nor counted twice, and no worker waits for it.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, func, insert, select, text

from panel.extensions import db
from panel.models import Client, Contract, ListTab, Subscription, SubscriptionTabDelta

Counts = dict[int, dict[ListTab, int]]  # platform id → tab → subscribers


def counts(platform_ids: list[int] | None = None) -> Counts:
    """Subscribers per platform and tab (every tab present, 0 when empty)."""
    delta = SubscriptionTabDelta
    query = select(delta.platform_id, delta.list_tab, func.sum(delta.delta)).group_by(delta.platform_id, delta.list_tab)
    if platform_ids is not None:
        query = query.where(delta.platform_id.in_(platform_ids))
    found: Counts = defaultdict(lambda: dict.fromkeys(ListTab, 0))
    for platform_id in platform_ids or []:
        found[platform_id]  # noqa: B018 (every platform asked for appears, even with none)
    for platform_id, tab, total in db.session.execute(query):
        found[platform_id][ListTab(tab)] = int(total or 0)
    return dict(found)


def tab_totals(platform_ids: list[int]) -> dict[ListTab, int]:
    """The tabs' counts summed over these platforms (an area's list, or one platform of it)."""
    totals = dict.fromkeys(ListTab, 0)
    for by_tab in counts(platform_ids).values():
        for tab, number in by_tab.items():
            totals[tab] += number
    return totals


def search_totals(platform_ids: list[int], condition) -> dict[ListTab, int]:
    """The tabs' counts of a search's result (bounded by the search: no counter for it)."""
    totals = dict.fromkeys(ListTab, 0)
    if not platform_ids:
        return totals
    query = (
        select(Subscription.list_tab, func.count())
        .join(Contract, Contract.id == Subscription.contract_id)
        .join(Client, Client.id == Contract.client_id)
        .where(Subscription.platform_id.in_(platform_ids), condition)
        .group_by(Subscription.list_tab)
    )
    for tab, number in db.session.execute(query):
        totals[ListTab(tab)] = number
    return totals


def compact() -> int:
    """Fold the counter rows into one per platform and tab; returns how many rows it removed.
    The caller commits."""
    table = SubscriptionTabDelta.__table__
    if db.engine.dialect.name == "postgresql":
        moved = db.session.execute(
            text(
                "WITH moved AS (DELETE FROM subscription_tab_deltas RETURNING platform_id, list_tab, delta), "
                "kept AS (INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) "
                "SELECT platform_id, list_tab, SUM(delta) FROM moved GROUP BY platform_id, list_tab "
                "HAVING SUM(delta) <> 0 RETURNING 1) "
                "SELECT (SELECT COUNT(*) FROM moved) - (SELECT COUNT(*) FROM kept)"
            )
        ).scalar_one()
        return int(moved)
    # SQLite: one writer at a time; rows after ``last`` (written once this read is done) stay.
    last = db.session.scalar(select(func.max(table.c.id)))
    if last is None:
        return 0
    summed = (
        select(table.c.platform_id, table.c.list_tab, func.sum(table.c.delta))
        .where(table.c.id <= last)
        .group_by(table.c.platform_id, table.c.list_tab)
        .having(func.sum(table.c.delta) != 0)
    )
    db.session.execute(insert(table).from_select(["platform_id", "list_tab", "delta"], summed))
    return db.session.execute(delete(table).where(table.c.id <= last)).rowcount
