"""Settings come from the environment; production refuses to start on development defaults."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from panel.config import ConfigError, load_config, normalise_database_url

PRODUCTION = {
    "PANEL_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgresql://panel@db/panel",
    "REDIS_URL": "redis://cache:6379/0",
}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without_each_setting(tmp_path, missing):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    with pytest.raises(ConfigError, match=missing):
        load_config(env, tmp_path)


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="at least 32"):
        load_config({**PRODUCTION, "SECRET_KEY": "curta"}, tmp_path)


def test_production_with_everything_set_uses_it_as_given(tmp_path):
    config = load_config(PRODUCTION, tmp_path)
    assert config["SECRET_KEY"] == PRODUCTION["SECRET_KEY"]
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://panel@db/panel"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert list(tmp_path.iterdir()) == []  # nothing generated on disk in production


def test_invalid_encryption_key_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="Fernet"):
        load_config({**PRODUCTION, "ENCRYPTION_KEY": "nao-e-uma-chave"}, tmp_path)


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="PANEL_ENV"):
        load_config({"PANEL_ENV": "staging"}, tmp_path)


def test_development_generates_secrets_once_and_keeps_them_private(tmp_path):
    first = load_config({}, tmp_path)
    second = load_config({}, tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 32
    assert first["ENCRYPTION_KEY"] == second["ENCRYPTION_KEY"]
    Fernet(first["ENCRYPTION_KEY"].encode())  # a usable key
    for name in ("secret_key", "encryption_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'painel.db'}"
    assert first["SESSION_COOKIE_SECURE"] is False
    assert first["REDIS_URL"] == ""  # the embedded server will be started


@pytest.mark.parametrize(
    "given,expected",
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_are_normalised_to_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_create_app_in_production_without_secrets_does_not_start(monkeypatch, tmp_path):
    from panel import create_app

    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError):
        create_app({"PANEL_ENV": "production", "INSTANCE_PATH": tmp_path})


def test_a_plain_postgresql_uri_override_is_given_psycopg3(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql://someone@127.0.0.1:1/nothing")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@127.0.0.1:1/nothing"


def test_platform_timeouts_default_to_three_and_ten_seconds_and_can_be_set(tmp_path):
    from panel.providers import Timeouts, timeouts_from_config

    assert timeouts_from_config(load_config({}, tmp_path)) == Timeouts(connect=3.0, read=10.0)
    config = load_config({"PROVIDER_CONNECT_TIMEOUT": "1.5", "PROVIDER_READ_TIMEOUT": "20"}, tmp_path)
    assert timeouts_from_config(config) == Timeouts(connect=1.5, read=20.0)


@pytest.mark.parametrize("value", ["dez", "0", "-1"])
def test_platform_timeouts_must_be_positive_numbers(tmp_path, value):
    with pytest.raises(ConfigError, match="PROVIDER_READ_TIMEOUT"):
        load_config({"PROVIDER_READ_TIMEOUT": value}, tmp_path)


def test_only_production_calls_reach_public_addresses_only(tmp_path):
    # In production a platform's host that resolves to 127.0.0.1, 10.x, 169.254.x… is refused
    # when connecting (tests/test_platforms.py proves it end to end); development and tests
    # call the sandboxes on 127.0.0.1.
    from panel.providers import public_only_from_config

    assert public_only_from_config(load_config(PRODUCTION, tmp_path)) is True
    assert public_only_from_config(load_config({}, tmp_path)) is False
