"""The audit trail: who did what, when and from where. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.types import UTCDateTime, utcnow
from panel.models.user import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # actor_id: the operator, or empty for the panel's own actors (Régua, Sistema)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # actor_name: kept as it was when the event happened, even if the user is renamed later
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    # changes: {"field": [old, new]}; never holds a secret (passwords and tokens are masked)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))

    actor: Mapped[User | None] = relationship()
