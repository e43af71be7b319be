"""Writes audit events. The caller's transaction carries them: an event exists exactly when the
change it describes was committed."""

from __future__ import annotations

from typing import Any

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
