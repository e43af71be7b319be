"""Licenças: what each platform will bill for a month, from daily snapshots.

A platform bills per subscriber active in the month, in one of two ways (its setting in
Configurações, ``Platform.billing_mode``): every subscriber **active at some moment of the month**
(the default), or those active on **one day's snapshot** (``snapshot_day``). Days and months are
the operators' (DISPLAY_TIMEZONE, America/Sao_Paulo): a change at 23:30 on the 31st in São Paulo
belongs to that month even though it is already the 1st in UTC.

How the numbers are kept (panel.models.licence):
- ``take_snapshot`` (rq cron once a day, panel.jobs.licences) records each platform's counts per
  tab for the day (the overview's 90-day chart), and adds every subscriber active now to the
  month's ``licence_members`` with the day's bit set — one row per subscriber and month, not per
  day. It also adds those that were active only between two snapshots (created and cancelled the
  same day, say): the triggers' ``access_changes`` log says when each one entered or left the
  active tab.
- The month's movement (new, blocked, unblocked, cancelled) is counted on ``access_changes``.

Nothing here renders or calls a platform; functions flush and the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import Date, and_, bindparam, case, func, null, select, text, true

from panel.domain import reconciliation, tab_counts
from panel.extensions import db
from panel.models import (
    AccessChange,
    BillingMode,
    Client,
    Contract,
    LicenceMember,
    LicenceSnapshot,
    ListTab,
    Platform,
    Subscription,
)
from panel.models.types import UTCDateTime, utcnow

CHART_DAYS = 90


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"] if has_app_context() else "America/Sao_Paulo")


def local_day(moment: datetime) -> date:
    return moment.astimezone(zone()).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first and the next month's first instant (São Paulo midnight), in UTC."""
    start = datetime.combine(month, time(0), tzinfo=zone()).astimezone(UTC)
    end = datetime.combine(next_month(month), time(0), tzinfo=zone()).astimezone(UTC)
    return start, end


def day_bit(day: int) -> int:
    return 1 << day


# -- the snapshot ---------------------------------------------------------------------------

_ADD_ACTIVE = text(
    "INSERT INTO licence_members (platform_id, month, subscription_id, days) "
    "SELECT platform_id, :month, id, :bit FROM subscriptions WHERE list_tab = 'active' "
    "ON CONFLICT (platform_id, month, subscription_id) DO UPDATE SET days = licence_members.days | excluded.days"
).bindparams(bindparam("month", type_=Date))

_ADD_CHANGED = text(
    "INSERT INTO licence_members (platform_id, month, subscription_id, days) "
    "SELECT DISTINCT platform_id, :month, subscription_id, 0 FROM access_changes "
    "WHERE changed_at >= :start AND changed_at < :end AND (to_tab = 'active' OR from_tab = 'active') "
    "ON CONFLICT (platform_id, month, subscription_id) DO NOTHING"
).bindparams(
    bindparam("month", type_=Date), bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
)


@dataclass(frozen=True)
class SnapshotResult:
    day: date
    platforms: int
    active: int


def take_snapshot(now: datetime | None = None) -> SnapshotResult:
    """Today's snapshot (today in São Paulo at ``now``): each platform's counts, and the month's
    members — those active now (with today's bit) and those active at some moment since the
    previous snapshot. Taking it again the same day is harmless (counts refreshed, bits kept)."""
    now = now or utcnow()
    day = local_day(now)
    month = month_start(day)
    by_platform = tab_counts.counts(list(db.session.scalars(select(Platform.id))))
    for platform_id, by_tab in by_platform.items():
        snapshot = db.session.scalar(
            select(LicenceSnapshot).where(LicenceSnapshot.platform_id == platform_id, LicenceSnapshot.day == day)
        )
        if snapshot is None:
            snapshot = LicenceSnapshot(platform_id=platform_id, day=day)
            db.session.add(snapshot)
        snapshot.active, snapshot.blocked, snapshot.inactive = (
            by_tab[ListTab.active],
            by_tab[ListTab.blocked],
            by_tab[ListTab.inactive],
        )
        snapshot.taken_at = now
    previous = db.session.scalar(select(func.max(LicenceSnapshot.taken_at)).where(LicenceSnapshot.taken_at < now))
    db.session.flush()
    db.session.execute(_ADD_ACTIVE, {"month": month, "bit": day_bit(day.day)})
    # Active only between two snapshots: each change is put in the month (São Paulo) it happened in.
    since = previous or now - timedelta(days=1)
    for each in _months_between(local_day(since), day):
        start, end = month_bounds(each)
        db.session.execute(_ADD_CHANGED, {"month": each, "start": max(start, since), "end": min(end, now)})
    db.session.flush()
    return SnapshotResult(day, len(by_platform), sum(by_tab[ListTab.active] for by_tab in by_platform.values()))


def _months_between(first: date, last: date) -> list[date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def snapshot_taken(day: date) -> bool:
    return db.session.scalar(select(LicenceSnapshot.id).where(LicenceSnapshot.day == day).limit(1)) is not None


# -- the ledger -----------------------------------------------------------------------------

MOVEMENTS = {
    "novos": "Novos",
    "bloqueados": "Bloqueados",
    "desbloqueados": "Desbloqueados ou reativados",
    "cancelados": "Cancelados ou suspensos",
}


def _movement_condition(kind: str):
    change = AccessChange
    return {
        "novos": change.from_tab.is_(None),
        "bloqueados": and_(change.from_tab == ListTab.active.value, change.to_tab == ListTab.blocked.value),
        "desbloqueados": and_(change.from_tab.is_not(None), change.to_tab == ListTab.active.value),
        "cancelados": and_(change.from_tab.is_not(None), change.to_tab == ListTab.inactive.value),
    }[kind]


@dataclass(frozen=True)
class LedgerLine:
    """One platform's month."""

    platform: Platform
    month: date
    billable: int
    movement: dict[str, int]  # MOVEMENTS' keys
    snapshots: int  # days of the month with a snapshot
    reconciliation: tuple[int, datetime] | None  # the platform's own count, when it was read

    @property
    def mode_label(self) -> str:
        if self.platform.billing_mode == BillingMode.snapshot_day:
            return f"Foto do dia {self.platform.snapshot_day}"
        return BillingMode.any_moment.label

    @property
    def unit_price(self) -> Decimal | None:
        return self.platform.unit_price

    @property
    def amount(self) -> Decimal | None:
        """What to pay: billable subscribers × the unit price, when there is one."""
        return None if self.unit_price is None else self.unit_price * self.billable


def _billable_condition(platform: Platform):
    if platform.billing_mode == BillingMode.snapshot_day and platform.snapshot_day:
        return LicenceMember.days.op("&")(day_bit(platform.snapshot_day)) != 0
    return true()


def billable_count(platform: Platform, month: date) -> int:
    query = (
        select(func.count())
        .select_from(LicenceMember)
        .where(LicenceMember.platform_id == platform.id, LicenceMember.month == month, _billable_condition(platform))
    )
    return db.session.scalar(query) or 0


def movement_counts(platform_ids: Iterable[int], month: date) -> dict[int, dict[str, int]]:
    start, end = month_bounds(month)
    ids = list(platform_ids)
    columns = [func.sum(case((_movement_condition(kind), 1), else_=0)) for kind in MOVEMENTS]
    query = (
        select(AccessChange.platform_id, *columns)
        .where(AccessChange.platform_id.in_(ids), AccessChange.changed_at >= start, AccessChange.changed_at < end)
        .group_by(AccessChange.platform_id)
    )
    found = {platform_id: dict.fromkeys(MOVEMENTS, 0) for platform_id in ids}
    for platform_id, *numbers in db.session.execute(query):
        found[platform_id] = {kind: int(number or 0) for kind, number in zip(MOVEMENTS, numbers, strict=True)}
    return found


def ledger(month: date, platforms: list[Platform] | None = None) -> list[LedgerLine]:
    """Every platform's line for ``month`` (its first day), by name."""
    if platforms is None:
        platforms = list(db.session.scalars(select(Platform).order_by(Platform.active.desc(), Platform.name)))
    movements = movement_counts([platform.id for platform in platforms], month)
    snapshots = dict(
        db.session.execute(
            select(LicenceSnapshot.platform_id, func.count())
            .where(LicenceSnapshot.day >= month, LicenceSnapshot.day < next_month(month))
            .group_by(LicenceSnapshot.platform_id)
        ).all()
    )
    return [
        LedgerLine(
            platform=platform,
            month=month,
            billable=billable_count(platform, month),
            movement=movements[platform.id],
            snapshots=snapshots.get(platform.id, 0),
            reconciliation=reconciliation.platform_count_from_last_reconciliation(platform.id),
        )
        for platform in platforms
    ]


# -- the subscribers behind each number -----------------------------------------------------

NUMBERS = {"cobrados": "Assinantes cobrados", **MOVEMENTS}


@dataclass(frozen=True)
class Entry:
    """A subscriber behind one of the ledger's numbers (``key`` pages the list)."""

    key: int
    subscription: Subscription
    contract: Contract
    client: Client
    changed_at: datetime | None  # for a movement: when


def entries(platform: Platform, month: date, number: str, *, after: int | None = None, limit: int = 50) -> list[Entry]:
    """The subscribers behind ``number`` (NUMBERS' keys), by keyset: subscription id for the
    billable ones, the change's id for a movement."""
    if number == "cobrados":
        query = (
            select(Subscription.id, Subscription, Contract, Client, null())
            .join(LicenceMember, LicenceMember.subscription_id == Subscription.id)
            .where(
                LicenceMember.platform_id == platform.id, LicenceMember.month == month, _billable_condition(platform)
            )
        )
        key = Subscription.id
    else:
        start, end = month_bounds(month)
        query = (
            select(AccessChange.id, Subscription, Contract, Client, AccessChange.changed_at)
            .join(Subscription, Subscription.id == AccessChange.subscription_id)
            .where(
                AccessChange.platform_id == platform.id,
                AccessChange.changed_at >= start,
                AccessChange.changed_at < end,
                _movement_condition(number),
            )
        )
        key = AccessChange.id
    query = query.join(Contract, Contract.id == Subscription.contract_id).join(Client, Client.id == Contract.client_id)
    if after is not None:
        query = query.where(key > after)
    rows = db.session.execute(query.order_by(key).limit(limit))
    return [Entry(row[0], row[1], row[2], row[3], row[4]) for row in rows]


# -- the overview's chart -------------------------------------------------------------------


def active_series(today: date, days: int = CHART_DAYS) -> dict[int, list[tuple[date, int]]]:
    """Each platform's active subscribers per day over the last ``days`` days (days without a
    snapshot left out)."""
    first = today - timedelta(days=days - 1)
    query = (
        select(LicenceSnapshot.platform_id, LicenceSnapshot.day, LicenceSnapshot.active)
        .where(LicenceSnapshot.day >= first, LicenceSnapshot.day <= today)
        .order_by(LicenceSnapshot.platform_id, LicenceSnapshot.day)
    )
    series: dict[int, list[tuple[date, int]]] = {}
    for platform_id, day, active in db.session.execute(query):
        series.setdefault(platform_id, []).append((day, int(active)))
    return series


def parse_month(text_value: str | None, default: date) -> tuple[date, str | None]:
    """The month typed in the picker ("2026-11" or "11/2026"), or ``default`` with the reason."""
    raw = (text_value or "").strip()
    if not raw:
        return default, None
    for pattern in ("%Y-%m", "%m/%Y"):
        try:
            parsed = datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        if 2000 <= parsed.year <= 2100:
            return parsed, None
    return default, "Mês inválido: use o seletor de mês (ex.: 11/2026). Mostrando o mês atual."
