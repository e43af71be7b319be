from __future__ import annotations

from dataclasses import dataclass

from panel.models import User


class DomainError(Exception):
    """A rule refused the request. ``message`` is pt-BR, shown to the operator as it is;
    ``field`` names the form field it belongs to, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


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
