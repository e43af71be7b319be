"""Small helpers shared by the views (the Flask side of the domain's inputs and outputs)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user
from flask_wtf import FlaskForm

from panel.domain import Actor, DomainError
from panel.inputs import parse_id, without_control_characters

SEARCH_MAX = 120


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


def id_arg(name: str) -> int | None:
    """An id from the query string (``?antes=``, ``?plataforma=``…), or None when it is not one
    ("٣", 10²³, text): the page then shows its first page, unfiltered, as a user would expect
    from a link that was cut or edited."""
    return parse_id(request.args.get(name))


def search_arg(name: str = "q", limit: int = SEARCH_MAX) -> str:
    """A search box's text from the query string: control characters (a NUL would fail the query
    on PostgreSQL) read as spaces, runs of spaces as one, at most ``limit`` characters."""
    return " ".join(without_control_characters(request.args.get(name, "")).split())[:limit]
