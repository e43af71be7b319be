"""What the Integradores pages read from a request: list filters (query string) and the posted
contract numbers of a bulk action. Crafted values never reach the database as they are: a key
that is not an id (ASCII digits, 1 … 2³¹ − 1) is ignored (first page, no filter), a search's
control characters are dropped (panel.web), and a posted list that is not ids is a bad
request."""

from __future__ import annotations

from flask import abort, request
from wtforms import StringField
from wtforms.validators import DataRequired, InputRequired, Length

from panel.forms import Form, IdSelectField
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


# -- Conciliação --------------------------------------------------------------------------------


class AcceptForm(Form):
    """*Aceitar*: the reason is required (it goes to the history and the audit trail)."""

    reason = StringField(
        "Motivo",
        validators=[DataRequired("Informe o motivo (fica no histórico do contrato)."), Length(max=200)],
        description="Por que a situação da plataforma passa a ser a do contrato (até 200 caracteres).",
    )


class LinkForm(Form):
    """*Vincular*: the contract (same CPF/CNPJ, same platform) the unknown account becomes."""

    contract_id = IdSelectField("Contrato", validators=[InputRequired("Escolha o contrato a vincular.")])


def posted_ids(name: str, limit: int) -> list[int]:
    """Ids ticked in a form (``diferencas``), without repeats; a value that is not an id, or more
    than ``limit`` of them, is a bad request."""
    values = request.form.getlist(name)
    if len(values) > limit:
        abort(400)
    ids = [parse_id(value) for value in values]
    if None in ids:
        abort(400)
    return list(dict.fromkeys(ids))
