"""The application factory: config, Redis, extensions, blueprints (one explicit list), CLI.

Nothing connects at import time: extensions are bound here, Redis is opened (or started) here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from panel import PROJECT_ROOT, cli, database, errors, inputs, job_dashboard, passwords, security, templating
from panel.auth import bp as auth_bp
from panel.config import load_config, normalise_database_url
from panel.configuracoes import bp as configuracoes_bp
from panel.domain.users import load_session_user
from panel.embedded_redis import EmbeddedRedis
from panel.extensions import csrf, db, login_manager, migrate, redis_client
from panel.integradores import bp as integradores_bp
from panel.jobs import dispatch
from panel.jobs.health import check_eviction_policy
from panel.main import bp as main_bp
from panel.painel_cliente import bp as painel_cliente_bp

# Settings given to create_app() that are read like environment variables (and validated the
# same way); any other key is a Flask config value applied as it is.
ENV_SETTINGS = ("PANEL_ENV", "SECRET_KEY", "ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL")

log = logging.getLogger(__name__)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    overrides = dict(overrides or {})
    instance_path = Path(
        overrides.pop("INSTANCE_PATH", None) or os.environ.get("PANEL_INSTANCE_PATH") or PROJECT_ROOT / "instance"
    )
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    # Before any blueprint: every <int:…> rule, rq-dashboard's too, takes the bounded converter.
    inputs.init_app(app)
    env = dict(os.environ)
    env.update({key: str(overrides.pop(key)) for key in ENV_SETTINGS if key in overrides})
    app.config.update(load_config(env, instance_path))
    app.config.update(overrides)
    # A URL given directly as SQLALCHEMY_DATABASE_URI gets psycopg 3 too (psycopg2 is not installed).
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    _configure_logging(app)

    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    _init_redis(app)
    _init_extensions(app)
    _register_blueprints(app)

    errors.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, app.config["LOG_LEVEL"], logging.INFO)
    logging.getLogger("panel").setLevel(level)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _init_redis(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    if not url:
        server = EmbeddedRedis(Path(app.instance_path))
        url = server.ensure_running()
        app.extensions["embedded_redis"] = server
        app.config["REDIS_URL"] = url
    redis_client.init_app(app, url)
    check_eviction_policy(app.extensions["redis"])


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)
    database.init_app(app)  # the commit point of each request (after db: see its docstring)
    dispatch.init_app(app)  # committed outbox rows go to the queue
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Entre com seu usuário e senha para continuar."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_session_user)

    passwords.init_app(app)
    # The access guard must run before CSRF (see panel.security.init_app).
    security.init_app(app)
    csrf.init_app(app)


def _tune_sqlite(app: Flask) -> None:
    """WAL and a busy timeout: the web process, the worker and the scheduler share one file."""
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every SQLite test
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _register_blueprints(app: Flask) -> None:
    for blueprint in (auth_bp, main_bp, painel_cliente_bp, integradores_bp, configuracoes_bp):
        app.register_blueprint(blueprint)

    # Job dashboard for admins (panel.security gates every /rq URL).
    job_dashboard.init_app(app)
