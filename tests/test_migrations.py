"""The schema comes from migrations: they upgrade an empty database to exactly the models, on
SQLite and on PostgreSQL, and downgrade back to nothing."""

from __future__ import annotations

import subprocess

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from panel.config import normalise_database_url
from panel.extensions import db
from tests.conftest import FLASK, PROJECT_ROOT


def _flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([FLASK, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


def _check_migrations(panel_env: dict, url: str) -> None:
    env = {**panel_env, "DATABASE_URL": url}
    upgrade = _flask(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr

    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            assert {"users", "audit_events", "alembic_version"} <= set(inspect(connection).get_table_names())
    finally:
        engine.dispose()

    check = _flask(env, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    downgrade = _flask(env, "db", "downgrade", "base")
    assert downgrade.returncode == 0, downgrade.stderr
    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_build_the_models_schema_on_sqlite(panel_env, tmp_path):
    _check_migrations(panel_env, f"sqlite:///{tmp_path / 'fresh.db'}")


def test_migrations_build_the_models_schema_on_postgresql(panel_env, pg_empty_schema_url):
    _check_migrations(panel_env, pg_empty_schema_url)


@pytest.mark.parametrize("revision_file", sorted((PROJECT_ROOT / "migrations" / "versions").glob("*.py")))
def test_migrations_do_not_import_model_code(revision_file):
    """A migration must keep working when the models change later."""
    assert "panel." not in revision_file.read_text()
