"""What the Integradores pages read from a request: list filters (query string) and the posted
contract numbers of a bulk action. Crafted values never reach the database as they are: a key
that is not an id (ASCII digits, 1 … 2³¹ − 1) is ignored (first page, no filter), a search's
control characters are dropped (panel.web), and a posted list that is not ids is a bad
request."""

from __future__ import annotations

from flask import abort, request

from panel.inputs import parse_id
from panel.web import id_arg, safe_next
from panel.web import search_arg as search_arg  # the same search box rules as every page


def number_arg(name: str) -> int | None:
    """A key or id from the query string (``?antes=``, ``?plataforma=``…), or None."""
    return id_arg(name)


def choice_arg(name: str, choices, default: str) -> str:
    value = request.args.get(name, "")
    return value if value in choices else default


def posted_back(default: str) -> str:
    """Where to go after a POST: the list (tab, search, page) the form was sent from."""
    return safe_next(request.form.get("voltar"), default)


def posted_contract_ids() -> list[int]:
    """The contract numbers ticked for a bulk action, in the order given, without repeats;
    a value that is not a number is a bad request (too many is the domain's to refuse)."""
    ids = [parse_id(value) for value in request.form.getlist("contratos")]
    if None in ids:
        abort(400)
    return list(dict.fromkeys(ids))
