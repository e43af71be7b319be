"""Extensions, created unbound here and bound to the app in create_app (nothing at import time)."""

from __future__ import annotations

import redis
from flask import Flask
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names: Alembic needs them to alter tables in SQLite's batch mode.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Limits are declared where they apply (the login form); none by default.


class RedisClient:
    """The app's Redis connection (queues, heartbeats), at ``app.extensions["redis"]``.

    Timeouts are set so that a Redis that hangs fails a page instead of freezing it (RQ's worker
    raises the read timeout itself above its blocking dequeue).
    """

    def init_app(self, app: Flask, url: str) -> None:
        app.extensions["redis"] = redis.Redis.from_url(
            url, socket_connect_timeout=3, socket_timeout=5, health_check_interval=30
        )


redis_client = RedisClient()
