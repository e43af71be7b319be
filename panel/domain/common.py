from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from panel.models import User


# Business days (due dates, days overdue) are the provider's days, in Brazil's official time.
BUSINESS_TIMEZONE = ZoneInfo("America/Sao_Paulo")


def local_today() -> date:
    return datetime.now(BUSINESS_TIMEZONE).date()


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
            errors.append(error)
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
