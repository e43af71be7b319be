"""What the tab counts, the licence ledger and the overview read: counters and an access-change
log kept by database triggers on ``subscriptions``, and the daily licence snapshots.

The triggers (``TAB_TRIGGERS``) fire on every write of ``subscriptions.list_tab`` — by the domain,
the worker, a bulk load or a hand-made UPDATE — so the numbers never depend on who wrote. They
only ever INSERT: a tab change adds a -1 and a +1 row to ``subscription_tab_deltas`` instead of
updating one counter row, so concurrent workers never queue on a hot row in PostgreSQL. A cron job
(``panel.jobs.licences.compact_tab_counts``) folds the rows into one per platform and tab, so a
count is a SUM over a handful of rows. Subscriptions are never deleted (their history is kept), so
there is no DELETE trigger.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from panel.extensions import db
from panel.models.types import UTCDateTime, utcnow


class SubscriptionTabDelta(db.Model):
    """+1/-1 for a platform's tab, written by the triggers; summed per (platform, tab) it is the
    number of subscribers in that tab. Compacted periodically (the sum kept as one row)."""

    __tablename__ = "subscription_tab_deltas"
    __table_args__ = (Index("ix_subscription_tab_deltas_platform_tab", "platform_id", "list_tab", "delta"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    list_tab: Mapped[str] = mapped_column(String(16))
    delta: Mapped[int] = mapped_column(BigInteger)


class AccessChange(db.Model):
    """A subscriber moving between tabs (from_tab empty: it was created), written by the triggers:
    the month's movement (new, blocked, unblocked, cancelled) and who was active between two
    snapshots."""

    __tablename__ = "access_changes"
    __table_args__ = (Index("ix_access_changes_platform_changed_at", "platform_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_tab: Mapped[str | None] = mapped_column(String(16))
    to_tab: Mapped[str] = mapped_column(String(16))


class LicenceSnapshot(db.Model):
    """A platform's subscribers per tab on one day (America/Sao_Paulo), taken by the daily cron
    job: the overview's 90-day chart."""

    __tablename__ = "licence_snapshots"
    __table_args__ = (UniqueConstraint("platform_id", "day", name="uq_licence_snapshots_platform_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    day: Mapped[date]
    active: Mapped[int] = mapped_column(BigInteger)
    blocked: Mapped[int] = mapped_column(BigInteger)
    inactive: Mapped[int] = mapped_column(BigInteger)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LicenceMember(db.Model):
    """A subscriber that was active at some moment of a month at a platform (the ledger's
    *ativo em qualquer momento do mês*). ``days`` has bit d set when it was active at day d's
    snapshot (the ledger's *foto em um dia do mês*): one row per subscriber and month, not per day."""

    __tablename__ = "licence_members"
    __table_args__ = (CheckConstraint("days >= 0", name="days_not_negative"),)

    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)  # the month's first day
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), primary_key=True)
    days: Mapped[int] = mapped_column(BigInteger, default=0)


# -- the triggers (the migration creates the same ones) ----------------------------------------

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION subscriptions_track_tab() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) VALUES (NEW.platform_id, NEW.list_tab, 1);
    INSERT INTO access_changes (subscription_id, platform_id, changed_at, from_tab, to_tab)
      VALUES (NEW.id, NEW.platform_id, now(), NULL, NEW.list_tab);
  ELSE
    INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta)
      VALUES (OLD.platform_id, OLD.list_tab, -1), (NEW.platform_id, NEW.list_tab, 1);
    INSERT INTO access_changes (subscription_id, platform_id, changed_at, from_tab, to_tab)
      VALUES (NEW.id, NEW.platform_id, now(), OLD.list_tab, NEW.list_tab);
  END IF;
  RETURN NULL;
END $$
"""

PG_TRIGGERS = [
    _PG_FUNCTION,
    "CREATE TRIGGER subscriptions_tab_insert AFTER INSERT ON subscriptions FOR EACH ROW "
    "EXECUTE FUNCTION subscriptions_track_tab()",
    "CREATE TRIGGER subscriptions_tab_update AFTER UPDATE OF list_tab, platform_id ON subscriptions FOR EACH ROW "
    "WHEN (OLD.list_tab IS DISTINCT FROM NEW.list_tab OR OLD.platform_id IS DISTINCT FROM NEW.platform_id) "
    "EXECUTE FUNCTION subscriptions_track_tab()",
]

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"  # UTC, as UTCDateTime stores it

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER subscriptions_tab_insert AFTER INSERT ON subscriptions BEGIN
  INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) VALUES (NEW.platform_id, NEW.list_tab, 1);
  INSERT INTO access_changes (subscription_id, platform_id, changed_at, from_tab, to_tab)
    VALUES (NEW.id, NEW.platform_id, {_SQLITE_NOW}, NULL, NEW.list_tab);
END""",
    f"""CREATE TRIGGER subscriptions_tab_update AFTER UPDATE OF list_tab, platform_id ON subscriptions
WHEN OLD.list_tab IS NOT NEW.list_tab OR OLD.platform_id IS NOT NEW.platform_id BEGIN
  INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) VALUES (OLD.platform_id, OLD.list_tab, -1);
  INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) VALUES (NEW.platform_id, NEW.list_tab, 1);
  INSERT INTO access_changes (subscription_id, platform_id, changed_at, from_tab, to_tab)
    VALUES (NEW.id, NEW.platform_id, {_SQLITE_NOW}, OLD.list_tab, NEW.list_tab);
END""",
]

for _statement in PG_TRIGGERS:
    event.listen(db.metadata, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_TRIGGERS:
    # (DDL formats its text with %: strftime's own % are doubled)
    event.listen(db.metadata, "after_create", DDL(_statement.replace("%", "%%")).execute_if(dialect="sqlite"))
