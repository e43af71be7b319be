"""Jinja filters and globals: dates shown in the operators' time zone, role checks for menus."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from panel.models import Role


def local_datetime(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored UTC datetime as the operators read it (America/Sao_Paulo by default)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(fmt)


# How audited fields read in the Auditoria page (the stored keys are the models' attributes).
AUDIT_FIELDS = {"username": "Login", "name": "Nome", "role": "Perfil", "active": "Situação", "password": "Senha"}


def audit_field(field: str) -> str:
    return AUDIT_FIELDS.get(field, field)


def audit_value(value, field: str) -> str:
    if value is None:
        return "—"
    if field == "active":
        return "Ativo" if value else "Inativo"
    if field == "role" and value in Role._value2member_map_:
        return Role(value).label
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    return str(value)


def can(role: str | Role) -> bool:
    """Whether the current user's role includes ``role``: menus and buttons use it to hide what
    the server would refuse anyway."""
    return bool(current_user.is_authenticated and current_user.has_role(Role(role)))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(local_datetime=local_datetime, audit_field=audit_field, audit_value=audit_value)
    app.jinja_env.globals.update(can=can, Role=Role)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def machinery():
        # Only for logged-in pages: the banner that says the worker or scheduler has stopped.
        if not current_user.is_authenticated:
            return {}
        from panel.jobs.health import machinery_status

        return {"machinery": machinery_status(app.extensions["redis"])}
