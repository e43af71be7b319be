"""Writes audit events. The caller's transaction carries them: an event exists exactly when the
change it describes was committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from panel.domain.common import Actor
from panel.extensions import db
from panel.models import AuditEvent

SECRET_MASK = "••••••"


def record(
    actor: Actor,
    action: str,
    summary: str,
    *,
    target: Any | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.user.id if actor.user is not None else None,
        actor_name=actor.name,
        action=action,
        target_type=type(target).__name__ if target is not None else None,
        target_id=str(target.id) if target is not None else None,
        summary=summary,
        changes=changes or None,
        ip=actor.ip,
    )
    db.session.add(event)
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{"field": [old, new]} for the fields whose value changed."""
    return {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}


def recent_events(limit: int = 50, *, actor_id: int | None = None, before_id: int | None = None) -> list[AuditEvent]:
    """The newest events (older than ``before_id`` when paging by keyset), or only one
    operator's when ``actor_id`` is given."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.session.scalars(query))


# What an event is about, by the first part of its action ("contract.block" → contract), as the
# Auditoria filter offers it. A new area that records events adds its prefix here.
KINDS = {
    "auth": "Entrada e saída do painel",
    "user": "Usuários",
    "client": "Clientes",
    "contract": "Contratos e assinantes",
    "plan": "Planos",
    "product": "Produtos",
    "platform": "Operadoras e fornecedores",
    "billing_rule": "Réguas de cobrança",
    "regua": "Execuções da régua",
    "reconciliation": "Conciliação",
}
PANEL_ACTORS = "sistema"  # the "who" of events without an operator (Régua, Sistema)


@dataclass(frozen=True)
class AuditFilter:
    """Which events Auditoria lists. ``actor``: a user's id, PANEL_ACTORS, or None for
    everyone; ``kind``: a key of KINDS; ``first_day``/``last_day``: days in the operators' time
    zone (DISPLAY_TIMEZONE), both included."""

    actor: int | str | None = None
    kind: str | None = None
    first_day: date | None = None
    last_day: date | None = None


def day_start(day: date) -> datetime:
    """Midnight of ``day`` in the operators' time zone, in UTC (what the events store)."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _conditions(filters: AuditFilter) -> list:
    conditions = []
    if filters.actor == PANEL_ACTORS:
        conditions.append(AuditEvent.actor_id.is_(None))
    elif filters.actor is not None:
        conditions.append(AuditEvent.actor_id == filters.actor)
    if filters.kind is not None:
        # "kind." up to (not including) "kind/": the prefix as a range the action's index serves
        conditions += [AuditEvent.action >= filters.kind + ".", AuditEvent.action < filters.kind + "/"]
    if filters.first_day is not None:
        conditions.append(AuditEvent.created_at >= day_start(filters.first_day))
    if filters.last_day is not None:
        conditions.append(AuditEvent.created_at < day_start(filters.last_day + timedelta(days=1)))
    return conditions


def events(filters: AuditFilter, *, before_id: int | None = None, limit: int = 50) -> list[AuditEvent]:
    """The events the filter finds, newest first, older than ``before_id`` when paging by keyset."""
    query = select(AuditEvent).where(*_conditions(filters)).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.session.scalars(query))
