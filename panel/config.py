"""Every setting the panel reads from the environment, in one place.

Development gets safe defaults (secrets generated once and kept under ``instance/``); production
refuses to start unless each secret and service address is given explicitly.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from panel.crypto import parse_keys

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """The environment does not describe a panel that may start."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "sim"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be more than zero seconds, got {raw!r}")
    return value


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whatever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret(instance_path: Path, name: str, make) -> str:
    """A development secret generated once and kept in instance/, so restarts keep sessions
    and encrypted columns readable without anyone choosing a weak constant."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: a process starting
        # at the same moment sees either no file or the complete one, and both keep the winner's.
        fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def load_config(env: Mapping[str, str], instance_path: Path) -> dict:
    panel_env = (env.get("PANEL_ENV") or "development").strip().lower()
    if panel_env not in ENVIRONMENTS:
        raise ConfigError(f"PANEL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {panel_env!r}")
    production = panel_env == "production"

    secret_key = env.get("SECRET_KEY") or ""
    encryption_key = env.get("ENCRYPTION_KEY") or ""
    database_url = env.get("DATABASE_URL") or ""
    redis_url = env.get("REDIS_URL") or ""

    if production:
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", secret_key),
                ("ENCRYPTION_KEY", encryption_key),
                ("DATABASE_URL", database_url),
                ("REDIS_URL", redis_url),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                "refusing to start in production without "
                + ", ".join(missing)
                + " (development defaults are not safe there)"
            )
        if len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must have at least 32 characters in production")
    else:
        secret_key = secret_key or instance_secret(instance_path, "secret_key", lambda: secrets.token_urlsafe(48))
        encryption_key = encryption_key or instance_secret(
            instance_path, "encryption_key", lambda: Fernet.generate_key().decode()
        )
        database_url = database_url or f"sqlite:///{instance_path / 'painel.db'}"

    try:
        parse_keys(encryption_key)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            "ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes; several keys, "
            "newest first, may be separated by commas); generate one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from exc

    allowed_hosts = _host_patterns(env.get("PLATFORM_ALLOWED_HOSTS"), production)

    return {
        "PANEL_ENV": panel_env,
        "DEBUG": False,
        "TESTING": panel_env == "testing",
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEY": encryption_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # hide_parameters: a database error never prints the row's values (personal data) to a log.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # Empty means "start an embedded redis-server under instance/".
        "REDIS_URL": redis_url,
        # Cookies: never readable from JavaScript, not sent on cross-site POSTs, https-only in
        # production (where the panel sits behind TLS).
        "SESSION_COOKIE_NAME": "painel_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int(env, "SESSION_HOURS", 10)),
        # The session cookie is sent only when the session changes: a page's polling request,
        # started before a form's POST and answered after it, would otherwise put back the
        # cookie it was sent with and drop the POST's flash message. The lifetime is counted
        # from the login (panel.security.session_expired), not renewed by each request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Number of reverse proxies in front of the panel whose X-Forwarded-* we trust; the
        # login throttle keys on the client address, so this must match the deployment.
        "TRUSTED_PROXY_COUNT": _int(env, "TRUSTED_PROXY_COUNT", 0),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_I18N_ENABLED": False,  # WTForms' bundled pt translations, without Flask-Babel
        # Failed logins allowed before 429 (see panel/auth/throttle.py).
        "LOGIN_LIMIT_PER_USER_AND_IP": env.get("LOGIN_LIMIT_PER_USER_AND_IP") or "5 per 5 minutes",
        "LOGIN_LIMIT_PER_USER": env.get("LOGIN_LIMIT_PER_USER") or "20 per 15 minutes",
        "LOGIN_LIMIT_PER_IP": env.get("LOGIN_LIMIT_PER_IP") or "30 per 5 minutes",
        "PASSWORD_MIN_LENGTH": _int(env, "PASSWORD_MIN_LENGTH", 10),
        "DISPLAY_TIMEZONE": env.get("DISPLAY_TIMEZONE") or "America/Sao_Paulo",
        "LOG_LEVEL": (env.get("LOG_LEVEL") or "INFO").upper(),
        # Every platform call waits at most this long to connect, then this long for each read
        # (job timeouts in panel/jobs/queues.py are longer than a call's worst case).
        "PROVIDER_CONNECT_TIMEOUT": _seconds(env, "PROVIDER_CONNECT_TIMEOUT", 3.0),
        "PROVIDER_READ_TIMEOUT": _seconds(env, "PROVIDER_READ_TIMEOUT", 10.0),
        # Hosts a platform's server URL may name (see panel.domain.platforms.check_server_url):
        # in production only these, so a settings form cannot aim the worker at internal
        # addresses; "*" (any host, the sandboxes included) is the development default.
        "PLATFORM_ALLOWED_HOSTS": allowed_hosts,
        # -- the provisioning engine (panel/jobs/provisioning.py) --
        # Retryable failures wait RETRY_BASE·2^(attempt-1) (with jitter, at least the platform's
        # Retry-After) up to RETRY_MAX, and the operation fails after MAX_ATTEMPTS attempts.
        "PROVISIONING_RETRY_BASE": _seconds(env, "PROVISIONING_RETRY_BASE", 10.0),
        "PROVISIONING_RETRY_MAX": _seconds(env, "PROVISIONING_RETRY_MAX", 1800.0),
        "PROVISIONING_MAX_ATTEMPTS": _int(env, "PROVISIONING_MAX_ATTEMPTS", 8),
        # A running operation whose worker has said nothing for this long is taken as lost: the
        # relay queues it again. Longer than the job timeout of the provisioning queue.
        "PROVISIONING_LEASE": _seconds(env, "PROVISIONING_LEASE", 180.0),
        # Consecutive failures (5xx, timeouts) that open a platform's circuit, the first pause,
        # and the longest (the pause doubles while the platform keeps failing).
        "CIRCUIT_FAILURE_THRESHOLD": _int(env, "CIRCUIT_FAILURE_THRESHOLD", 5),
        "CIRCUIT_OPEN_SECONDS": _seconds(env, "CIRCUIT_OPEN_SECONDS", 30.0),
        "CIRCUIT_MAX_OPEN_SECONDS": _seconds(env, "CIRCUIT_MAX_OPEN_SECONDS", 300.0),
        # How often the relay re-queues pending operations and lost ones (rq cron).
        "RELAY_INTERVAL": _int(env, "RELAY_INTERVAL", 30),
        # A worker's heartbeat period is about this minus 15 s when idle; a worker silent for
        # this plus 60 s is dead to the banner (Redis lets its registration expire).
        "WORKER_TTL": max(20, _int(env, "WORKER_TTL", 60)),
        # Jobs a worker process runs before it ends and its supervisor starts a fresh one.
        "WORKER_MAX_JOBS": max(1, _int(env, "WORKER_MAX_JOBS", 1000)),
        # How long past its timeout a job may hang (in C code, out of SIGALRM's reach) before the
        # worker's watchdog ends the process and its supervisor starts another.
        "WORKER_WATCHDOG_GRACE": max(1.0, _seconds(env, "WORKER_WATCHDOG_GRACE", 60.0)),
        # The hour (0–23, DISPLAY_TIMEZONE) from which the day's títulos are made and the régua runs.
        "REGUA_HOUR": min(23, max(0, _int(env, "REGUA_HOUR", 6))),
        "RECONCILIATION_HOUR": min(23, max(0, _int(env, "RECONCILIATION_HOUR", 2))),
    }


# The platforms' public API hosts, allowed in production unless PLATFORM_ALLOWED_HOSTS says otherwise.
DEFAULT_PRODUCTION_HOSTS = ("api-resellers.ittv.com.br",)


_HOST_PATTERN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def _host_patterns(raw: str | None, production: bool) -> tuple[str, ...]:
    """Host names, or ``*.`` followed by a domain (``*.skeelo.com.br``), lower-case; a bare
    ``*`` (any host) only outside production."""
    if raw is None or not raw.strip():
        return DEFAULT_PRODUCTION_HOSTS if production else ("*",)
    patterns = tuple(part.strip().lower().rstrip(".") for part in raw.split(",") if part.strip())
    for pattern in patterns:
        if pattern == "*" and production:
            raise ConfigError(
                "PLATFORM_ALLOWED_HOSTS must name the platforms' hosts in production (a bare '*' would let a "
                "settings form reach internal addresses)"
            )
        if pattern != "*" and not _HOST_PATTERN.match(pattern):
            raise ConfigError(f"PLATFORM_ALLOWED_HOSTS: {pattern!r} is not a host name or '*.' followed by a domain")
    return patterns
