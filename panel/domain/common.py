from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import text

from panel.extensions import db
from panel.models import User


def local_today() -> date:
    """Today in the operators' time zone (DISPLAY_TIMEZONE, Brazil's official time by default):
    due dates and days overdue count the provider's days, as the pages show them."""
    zone = current_app.config["DISPLAY_TIMEZONE"] if has_app_context() else "America/Sao_Paulo"
    return datetime.now(ZoneInfo(zone)).date()


def lock_row(model, row_id: int) -> None:
    """Hold one row for writing until the transaction ends, so that concurrent actions on it run
    one after the other, each from the state the other left. A no-op UPDATE does it on both
    databases: a row lock on PostgreSQL, and on SQLite (whose driver starts the transaction only
    at the first write) the database's write lock, taken before the state is read again."""
    db.session.execute(text(f"UPDATE {model.__tablename__} SET id = id WHERE id = :id"), {"id": row_id})


class DomainError(Exception):
    """A rule refused the request. ``message`` is pt-BR, shown to the operator as it is;
    ``field`` names the form field it belongs to, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class DomainErrors(DomainError):
    """Several refusals at once (one per field), so a form can show them all together."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(errors[0].message, errors[0].field)
        self.errors = errors


def check_all(*checks) -> list:
    """Run each check (a callable); return their results, or raise every refusal together."""
    results, errors = [], []
    for check in checks:
        try:
            results.append(check())
        except DomainError as error:
            errors.extend(getattr(error, "errors", [error]))  # a check may run check_all itself
            results.append(None)
    if errors:
        raise DomainErrors(errors) if len(errors) > 1 else errors[0]
    return results


@dataclass(frozen=True)
class Actor:
    """Who asks: an operator (with the address the request came from) or the panel itself."""

    name: str
    user: User | None = None
    ip: str | None = None

    @classmethod
    def for_user(cls, user: User, ip: str | None = None) -> Actor:
        # Histories show the operator's name; the user id kept beside it stays unambiguous.
        return cls(name=user.name, user=user, ip=ip)

    @classmethod
    def system(cls, name: str = "Sistema") -> Actor:
        return cls(name=name)
