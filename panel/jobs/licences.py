"""The licence ledger's and the tab counts' periodic jobs (rq cron, panel.jobs.cron_config).

``licence_snapshot_tick`` runs every few minutes and takes the day's snapshot (São Paulo day) at
its first tick of the day — a tick missed while the scheduler was down is made up by the next
one, and between two snapshots the triggers' change log keeps who was active (see
panel.domain.licences). ``compact_tab_counts`` folds the counters' rows every minute.
"""

from __future__ import annotations

from sqlalchemy import text

from panel.database import unit_of_work
from panel.domain import licences, tab_counts
from panel.extensions import db
from panel.models.types import utcnow

# After folding this many rows (a bulk load), PostgreSQL's table is vacuumed at once: the page
# views' SUM would otherwise read the dead rows' pages until autovacuum comes by.
VACUUM_AFTER = 10_000


def licence_snapshot_tick() -> str:
    with unit_of_work():
        today = licences.local_day(utcnow())
        if licences.snapshot_taken(today):
            return "taken"
        result = licences.take_snapshot()
    return f"snapshot {result.day.isoformat()}: platforms: {result.platforms}, active: {result.active}"


def compact_tab_counts() -> int:
    with unit_of_work():
        removed = tab_counts.compact()
    if removed >= VACUUM_AFTER and db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE subscription_tab_deltas"))
    return removed
