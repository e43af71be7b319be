"""Small helpers shared by the views (the Flask side of the domain's inputs and outputs)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user
from flask_wtf import FlaskForm

from panel.domain import Actor, DomainError


def current_actor() -> Actor:
    return Actor.for_user(current_user._get_current_object(), request.remote_addr)


def attach_error(form: FlaskForm, error: DomainError) -> None:
    """Show a domain refusal next to its field (or at the top of the form); every one of them
    when the domain refused several fields at once."""
    for each in getattr(error, "errors", None) or [error]:
        _attach_one(form, each)


def _attach_one(form: FlaskForm, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never send someone elsewhere after logging in."""
    if not target or "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return default  # backslashes and control characters (header injection) never pass
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def posted_flag(name: str) -> bool:
    """The "0"/"1" a confirm button posts (Desativar / Reativar); anything else is a bad request."""
    value = request.form.get(name)
    if value not in ("0", "1"):
        abort(400)
    return value == "1"
