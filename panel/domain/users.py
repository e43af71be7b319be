"""Operators: logging in, and the admin's user management (Configurações → Usuários)."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import func, select

from panel import passwords
from panel.domain import audit
from panel.domain.common import Actor, DomainError
from panel.extensions import db
from panel.models import Role, User
from panel.models.types import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def find_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))


def load_session_user(session_id: str) -> User | None:
    """The user a session cookie names, if that session is still valid.

    The id is ``"<user id>:<session token>"``: a token rotated by logout, a password change or a
    deactivation no longer matches, so every copy of the old cookie stops working.
    """
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def authenticate(username: str, password: str, ip: str | None = None) -> User | None:
    """The active user with these credentials, or None (the refusal is audited). Upgrades an
    outdated hash."""
    user = find_by_username(username)
    if user is None or not user.active:
        passwords.burn_time(password)
        _record_refused_login(user, ip)
        return None
    if not passwords.verify_password(user.password_hash, password):
        _record_refused_login(user, ip)
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    audit.record(Actor.for_user(user, ip), "auth.login", "Entrou no painel.", target=user)
    db.session.flush()
    return user


def _record_refused_login(user: User | None, ip: str | None) -> None:
    if user is None:
        # Not the typed text: people type their password in the username field by mistake.
        actor, summary = Actor(name="(usuário desconhecido)", ip=ip), "Login recusado: usuário inexistente."
    elif not user.active:
        actor, summary = Actor.for_user(user, ip), "Login recusado: usuário desativado."
    else:
        actor, summary = Actor.for_user(user, ip), "Login recusado: senha incorreta."
    audit.record(actor, "auth.login_refused", summary, target=user)
    db.session.flush()


def end_sessions(user: User, actor: Actor) -> None:
    """Logout: every session of this user ends, including copies of its cookie."""
    user.rotate_session_token()
    audit.record(actor, "auth.logout", "Saiu do painel.", target=user)
    db.session.flush()


def _check_password(password: str, field: str = "password") -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise DomainError(f"A senha deve ter pelo menos {minimum} caracteres.", field)
    if len(password) > 256:
        raise DomainError("A senha pode ter no máximo 256 caracteres.", field)


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise DomainError("Perfil desconhecido.", "role") from None


def _active_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == Role.admin.value, User.active))


def create_user(actor: Actor, *, username: str, name: str, role: str, password: str) -> User:
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise DomainError(
            "Use de 2 a 64 caracteres: letras minúsculas, números, ponto, hífen ou sublinhado.",
            "username",
        )
    if find_by_username(username) is not None:
        raise DomainError("Já existe um usuário com este login.", "username")
    name = (name or "").strip()
    if not name:
        raise DomainError("Informe o nome.", "name")
    role_enum = _check_role(role)
    _check_password(password)
    user = User(
        username=username,
        name=name,
        role=role_enum.value,
        password_hash=passwords.hash_password(password),
        password_changed_at=utcnow(),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user.created",
        f"Criou o usuário {username} com perfil {role_enum.label}.",
        target=user,
        changes={"username": [None, username], "name": [None, name], "role": [None, role_enum.value]},
    )
    db.session.flush()
    return user


def update_user(actor: Actor, user: User, *, name: str, role: str, active: bool) -> User:
    name = (name or "").strip()
    if not name:
        raise DomainError("Informe o nome.", "name")
    role_enum = _check_role(role)
    is_self = actor.user is not None and actor.user.id == user.id
    if is_self and not active:
        raise DomainError("Você não pode desativar o seu próprio usuário.", "active")
    if is_self and role_enum != Role.admin and user.role == Role.admin.value:
        raise DomainError("Você não pode retirar o seu próprio perfil de administrador.", "role")
    losing_admin = user.role == Role.admin.value and user.active and (role_enum != Role.admin or not active)
    if losing_admin and _active_admins() <= 1:
        raise DomainError("O painel precisa de pelo menos um administrador ativo.", "role")

    before = {"name": user.name, "role": user.role, "active": user.active}
    after = {"name": name, "role": role_enum.value, "active": bool(active)}
    changes = audit.diff(before, after)
    if not changes:
        return user
    user.name, user.role, user.active = name, role_enum.value, bool(active)
    if "active" in changes:
        # A deactivated user is out at once. (A new role applies at the next request: roles are
        # read on every one.)
        user.rotate_session_token()
        summary = f"{'Reativou' if active else 'Desativou'} o usuário {user.username}."
    else:
        summary = f"Alterou o usuário {user.username}."
    audit.record(actor, "user.updated", summary, target=user, changes=changes)
    db.session.flush()
    return user


def set_active(actor: Actor, user: User, active: bool) -> User:
    """Deactivate (the user's sessions end at once) or reactivate, keeping name and role."""
    return update_user(actor, user, name=user.name, role=user.role, active=active)


def reset_password(actor: Actor, user: User, new_password: str) -> None:
    """An admin sets a new password for someone; that person's open sessions end."""
    _check_password(new_password)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    user.rotate_session_token()
    audit.record(
        actor,
        "user.password_reset",
        f"Redefiniu a senha do usuário {user.username}.",
        target=user,
        changes={"password": [audit.SECRET_MASK, audit.SECRET_MASK]},
    )
    db.session.flush()


def change_own_password(actor: Actor, user: User, current: str, new: str) -> None:
    """The user's own change. Every other session of theirs ends; the caller logs the current
    one in again with the new session token."""
    if not passwords.verify_password(user.password_hash, current or ""):
        raise DomainError("Senha atual incorreta.", "current_password")
    _check_password(new, "new_password")
    if new == current:
        raise DomainError("A nova senha deve ser diferente da atual.", "new_password")
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    user.rotate_session_token()
    audit.record(actor, "user.password_changed", "Alterou a própria senha.", target=user)
    db.session.flush()


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.username)))
