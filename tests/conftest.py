"""Fixtures in the flaskr style, on real parts.

- Every test that takes ``app`` runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is
  set. The schema is created once per database; tables are emptied after each test (not a
  rolled-back transaction: the live server and the worker in the browser and job tests use their
  own connections, and must see committed data).
- Redis is real: REDIS_URL when set (CI gives a database number of its own), otherwise a
  redis-server started for the session. It is flushed after each test.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from panel import create_app
from panel.config import normalise_database_url
from panel.embedded_redis import EmbeddedRedis

DB_KINDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "senha-de-teste-123"
# Cheap argon2 parameters: hashing cost is not what these tests are about (test_passwords
# checks the production parameters separately).
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.ensure_running()
    server.stop()


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def secrets_env() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {"SECRET_KEY": "test-secret-" + uuid.uuid4().hex, "ENCRYPTION_KEY": Fernet.generate_key().decode()}


def postgres_url() -> str:
    return normalise_database_url(os.environ["TEST_DATABASE_URL"])


@pytest.fixture(scope="session", params=DB_KINDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'painel-test.db'}"
    return postgres_url()


@pytest.fixture(scope="session")
def _schema(database_url, redis_url, instance_path, secrets_env) -> str:
    """Create the schema once per database, from the models (migrations are tested apart)."""
    from panel.extensions import db

    app = create_app(
        {
            "PANEL_ENV": "testing",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "INSTANCE_PATH": instance_path,
            **secrets_env,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    close_connections(app)
    return database_url


@pytest.fixture
def app_settings(_schema, redis_url, instance_path, secrets_env) -> dict:
    """What the test app is created with; the live server's worker process gets the same."""
    return {
        "PANEL_ENV": "testing",
        "DATABASE_URL": _schema,
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": instance_path,
        **secrets_env,
        **FAST_HASHING,
    }


@pytest.fixture
def app(app_settings):
    """The app, with no context pushed: each test-client request gets its own app context (and
    so its own ``g`` and database session), as in production. Tests open
    ``with app.app_context():`` to read or change the database themselves."""
    from panel.extensions import db

    app = create_app(dict(app_settings))
    yield app
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()
    app.extensions["redis"].flushdb()
    close_connections(app)


@pytest.fixture
def make_app(app_settings):
    """Factory for extra apps with other settings; each is disposed of after the test."""
    from panel.extensions import db

    made = []

    def make(**changes):
        settings = {**app_settings, **changes}
        for key in [key for key, value in changes.items() if value is None]:
            settings.pop(key)
        extra = create_app(settings)
        made.append(extra)
        return extra

    yield make
    for extra in made:
        with extra.app_context():
            db.engine.dispose()
        close_connections(extra)


def close_connections(app) -> None:
    """Close what an app opened (its Redis clients), so no socket is left to the garbage
    collector at exit."""
    for connection in {id(c): c for c in (app.extensions.get("redis"), getattr(app, "redis_conn", None)) if c}.values():
        connection.close()
        connection.connection_pool.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    name: str
    role: str


@pytest.fixture
def make_user(app):
    """Factory: make_user(role="operador", username=None, password=PASSWORD) -> UserInfo."""
    from panel.domain import Actor
    from panel.domain.users import create_user

    def make(role: str = "operador", username: str | None = None, password: str = PASSWORD, name: str | None = None):
        username = username or f"{role}-{uuid.uuid4().hex[:8]}"
        with app.app_context():
            user = create_user(
                Actor.system("Testes"), username=username, name=name or username.title(), role=role, password=password
            )
            return UserInfo(user.id, user.username, user.name, user.role)

    return make


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no csrf_token field"
    return match.group(1) or match.group(2)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def csrf_token(self, url: str = "/login") -> str:
        return csrf_token_from(self.client.get(url).get_data(as_text=True))

    def login(self, username: str, password: str = PASSWORD, **kwargs):
        token = self.csrf_token("/login")
        return self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}, **kwargs
        )

    def logout(self):
        token = self.csrf_token("/")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(make_user, auth):
    """login_as("admin") -> the logged-in User (a fresh one of that role)."""

    def do(role: str):
        user = make_user(role)
        response = auth.login(user.username)
        assert response.status_code == 302, "login failed in fixture"
        return user

    return do


@pytest.fixture
def pg_empty_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema (dropped afterwards)."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set")
    base = postgres_url()
    schema = "mig_" + uuid.uuid4().hex[:10]
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def redis_client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


@pytest.fixture
def panel_env(app_settings) -> dict[str, str]:
    """Environment for a `flask --app app …` subprocess that shares the test app's database,
    Redis and secrets (the real worker and scheduler run this way)."""
    env = dict(os.environ)
    env.update(
        {
            "FLASK_APP": "app",
            "PANEL_ENV": "testing",
            "DATABASE_URL": app_settings["DATABASE_URL"],
            "REDIS_URL": app_settings["REDIS_URL"],
            "PANEL_INSTANCE_PATH": str(app_settings["INSTANCE_PATH"]),
            "SECRET_KEY": app_settings["SECRET_KEY"],
            "ENCRYPTION_KEY": app_settings["ENCRYPTION_KEY"],
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(os.sys.executable).with_name("flask"))


@pytest.fixture(scope="session")
def sandbox_processes(tmp_path_factory) -> Iterator[dict]:
    """The platform sandboxes started so far in this session, one process per kind."""
    running: dict = {}
    yield running
    for sandbox in running.values():
        sandbox.stop()


@pytest.fixture
def sandbox_for(sandbox_processes, tmp_path_factory):
    """sandbox_for("ittv") -> a RunningSandbox, started once per session and reset for this
    test (no subscribers, no faults, demo catalogue)."""
    from tests.sandboxes import start_sandbox

    def get(kind: str):
        if kind not in sandbox_processes:
            sandbox_processes[kind] = start_sandbox(kind, tmp_path_factory.mktemp(f"sandbox-{kind}"))
        sandbox = sandbox_processes[kind]
        sandbox.reset()
        return sandbox

    return get


def post_form(client, page_url: str, data: dict, post_url: str | None = None, **kwargs):
    """GET the page for its CSRF token, then POST ``data`` with it (to ``post_url`` or the page)."""
    page = client.get(page_url)
    token = csrf_token_from(page.get_data(as_text=True))
    page.close()
    return client.post(post_url or page_url, data={**data, "csrf_token": token}, **kwargs)


@pytest.fixture
def run_jobs(app):
    """run_jobs() -> how many jobs were waiting when a real worker (the panel's, in this process,
    on the test Redis and database) started; it runs until every queue is empty."""
    from panel.jobs.queues import QUEUES, get_queue
    from panel.jobs.worker import PanelWorker

    def run() -> int:
        with app.app_context():
            connection = app.extensions["redis"]
            queues = [get_queue(spec.name, connection) for spec in QUEUES]
            waiting = sum(queue.count for queue in queues)
            PanelWorker(queues, connection=connection).work(burst=True, with_scheduler=False)
            return waiting

    return run
