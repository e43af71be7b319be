"""Operators who log in to the panel."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from panel.extensions import db
from panel.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow


class Role(LabelledEnum):
    """What an operator may do. Each role includes everything the ones above it in this list may
    do (declared from the least to the most)."""

    leitura = "leitura", "Leitura"
    operador = "operador", "Operador"
    admin = "admin", "Administrador"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'operador', 'leitura')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # username: the login, kept lower-case so "Ana" and "ana" are one person
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # session_token: part of every session cookie; changing it ends every open session
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def has_role(self, role: Role) -> bool:
        return self.role.includes(role)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        # The token travels in the session: rotating it invalidates every copy of the cookie.
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"
