"""Periodic housekeeping jobs."""

from __future__ import annotations

import time

from sqlalchemy import text

from panel.extensions import db
from panel.jobs.health import HEARTBEAT_KEY, HEARTBEAT_STALE_AFTER_S
from panel.jobs.queues import redis_connection


def heartbeat() -> float:
    """Proves the whole chain (scheduler → Redis → worker → database) is alive."""
    db.session.execute(text("SELECT 1"))
    db.session.rollback()
    now = time.time()
    redis_connection().set(HEARTBEAT_KEY, now, ex=HEARTBEAT_STALE_AFTER_S * 10)
    return now
