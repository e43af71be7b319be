"""What the Integradores pages read from a request: list filters (query string) and the posted
contract numbers of a bulk action. Crafted values never reach the database as they are: a key
that is not plain ASCII digits is ignored (first page, no filter), and a posted list that is
not is a bad request."""

from __future__ import annotations

from flask import abort, request

from panel.web import safe_next

SEARCH_MAX = 120


def _number(value: str | None) -> int | None:
    value = value or ""
    # ASCII digits that fit an id ("²" and "٣" are digits to str.isdigit, not to the database).
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def number_arg(name: str) -> int | None:
    """A key or id from the query string (``?antes=``, ``?plataforma=``…), or None."""
    return _number(request.args.get(name))


def search_arg() -> str:
    return " ".join(request.args.get("q", "").split())[:SEARCH_MAX]


def choice_arg(name: str, choices, default: str) -> str:
    value = request.args.get(name, "")
    return value if value in choices else default


def posted_back(default: str) -> str:
    """Where to go after a POST: the list (tab, search, page) the form was sent from."""
    return safe_next(request.form.get("voltar"), default)


def posted_contract_ids() -> list[int]:
    """The contract numbers ticked for a bulk action, in the order given, without repeats;
    a value that is not a number is a bad request (too many is the domain's to refuse)."""
    ids = [_number(value) for value in request.form.getlist("contratos")]
    if None in ids:
        abort(400)
    return list(dict.fromkeys(ids))
