"""Small helpers shared by the views (the Flask side of the domain's inputs and outputs)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, request
from flask_login import current_user
from flask_wtf import FlaskForm

from panel.domain import Actor, DomainError
from panel.extensions import db
from panel.inputs import parse_id, without_control_characters

SEARCH_MAX = 120
# A date in a query string: AAAA-MM-DD (what <input type="date"> sends), or dd/mm/aaaa typed.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BR_DATE = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")
DATE_MESSAGE = "Data inválida: use dd/mm/aaaa."


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


def id_list_arg(name: str, limit: int) -> list[int] | None:
    """Ids from the query string, separated by commas (``?assinantes=12,15``): ``[]`` when the
    parameter is absent or empty, None when a part is no id or there are more than ``limit``
    parts (the caller refuses the request). Repeated ids are kept once, in their first place."""
    text = request.args.get(name, "")
    if not text:
        return []
    parts = text.split(",", limit)  # at most limit + 1 parts: a huge list is never split whole
    if len(parts) > limit:
        return None
    ids = [parse_id(part) for part in parts]
    return None if None in ids else list(dict.fromkeys(ids))


def render_fragments(template_name: str, contexts: Iterable[dict]) -> list[str]:
    """One template rendered once per context (a batch of the fragments a page polls), the
    request's template context built once: ``render_template`` per fragment would run the
    context processors (the machinery banner's reads of Redis) for each of them."""
    app = current_app._get_current_object()
    template = app.jinja_env.get_template(template_name)
    shared: dict = {}
    app.update_template_context(shared)
    return [template.render({**shared, **context}) for context in contexts]


def search_arg(name: str = "q", limit: int = SEARCH_MAX) -> str:
    """A search box's text from the query string: control characters (a NUL would fail the query
    on PostgreSQL) read as spaces, runs of spaces as one, at most ``limit`` characters."""
    return " ".join(without_control_characters(request.args.get(name, "")).split())[:limit]


def date_arg(name: str) -> tuple[date | None, str | None]:
    """A date from the query string (a filter's *de*/*até*, *Simular régua*'s day): ``(date,
    None)``; ``(None, None)`` when it is empty; ``(None, message)`` when it is no date, for the
    page to show next to its field (and to go on without that filter)."""
    text = request.args.get(name, "").strip()
    if not text:
        return None, None
    for pattern, fmt in ((_ISO_DATE, "%Y-%m-%d"), (_BR_DATE, "%d/%m/%Y")):
        if pattern.fullmatch(text):
            try:
                return datetime.strptime(text, fmt).date(), None
            except ValueError:
                break
    return None, DATE_MESSAGE


# -- one view shape ---------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What ``attempt`` did: truthy when the domain accepted the action, with its result."""

    ok: bool
    value: T | None = None

    def __bool__(self) -> bool:
        return self.ok


def attempt(
    action: Callable[[], T],
    *,
    form: FlaskForm | None = None,
    success: str | Callable[[T], str] | None = None,
    refused: Callable[[str], str] | None = None,
) -> Outcome[T]:
    """Run one domain action for a view. Accepted: its changes are committed with the request
    (panel.database) and ``success`` is flashed. Refused (DomainError): everything it changed is
    rolled back and the refusal is shown — next to its field in ``form``, or flashed (worded by
    ``refused`` when given: "Contrato 12: " + the domain's message)."""
    try:
        value = action()
    except DomainError as error:
        db.session.rollback()
        if form is not None:
            attach_error(form, error)
        else:
            flash(refused(error.message) if refused is not None else error.message, "danger")
        return Outcome(False)
    if success is not None:
        flash(success(value) if callable(success) else success, "success")
    return Outcome(True, value)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list read newest first by keyset (``?antes=<key>``): no OFFSET, no COUNT."""

    items: list[T]
    next_key: int | None  # pass as ``antes`` for the next page; None on the last one


def keyset_page(fetch: Callable[[int], list[T]], size: int, key: Callable[[T], int] = lambda item: item.id) -> Page[T]:
    """``fetch(limit)`` reads the page plus one row: that one tells whether a next page exists."""
    found = fetch(size + 1)
    items = found[:size]
    return Page(items, key(items[-1]) if len(found) > size and items else None)
