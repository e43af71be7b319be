"""The fresh state of every row a list page follows, in one request.

A list (*Clientes de TV*, *Assinantes*, *Operações*) marks each row whose request is on its way
with ``data-poll-batch`` (this URL, with the page's ``voltar``), ``data-poll-group`` and
``data-poll-id``; static/js/app.js asks for all of them at once, one request per page and round:

    GET /integradores/estado?assinantes=12,15&operacoes=40&voltar=/integradores/tv/clientes

    {"assinantes": {"12": "<div data-poll-fragment …>", "15": "…"}, "operacoes": {"40": "<tr …>"}}

Each value is the row's fragment rendered from the same template as the page
(``_subscriber_state.html``, ``_operation_row.html``); an id that names nothing is left out. The
rows are read together, in a fixed number of statements whatever their count: the subscribers
with their latest requests by one (``subscribers.rows_for``); the operations, their subscribers
and the subscribers' latest operation ids (for *Tentar novamente*) by one each.
"""

from __future__ import annotations

from flask import abort, jsonify, request, url_for

from panel.domain import operations as operations_domain
from panel.domain import subscribers as subscribers_domain
from panel.integradores import bp
from panel.integradores.views.subscribers import area_of
from panel.models import Role
from panel.security import requires
from panel.web import id_list_arg, render_fragments, safe_next

# Ids per group in one request: two pages' worth (a list shows 50 rows; Operações at most 100).
MAX_IDS = 100
GROUPS = ("assinantes", "operacoes")


@bp.route("/estado")
@requires(Role.leitura)
def poll_states():
    asked = {group: id_list_arg(group, MAX_IDS) for group in GROUPS}
    if any(ids is None for ids in asked.values()):
        abort(400)  # a part that is no id, or too many: refused, not guessed at
    if not any(asked.values()):
        abort(400)  # nothing asked
    voltar = request.args.get("voltar")
    answer = {}
    if asked["assinantes"]:
        rows = subscribers_domain.rows_for(asked["assinantes"])
        fragments = render_fragments(
            "integradores/_subscriber_state.html",
            ({"row": row, "back_url": safe_next(voltar, url_for(area_of(row.contract).endpoint))} for row in rows),
        )
        answer["assinantes"] = {str(row.subscription.id): html for row, html in zip(rows, fragments, strict=True)}
    if asked["operacoes"]:
        found = subscribers_domain.load_operations(asked["operacoes"])
        latest = operations_domain.latest_ids({op.subscription_id for op in found})
        back = safe_next(voltar, url_for(".operations"))
        fragments = render_fragments(
            "integradores/_operation_row.html", ({"op": op, "back_url": back, "latest": latest} for op in found)
        )
        answer["operacoes"] = {str(op.id): html for op, html in zip(found, fragments, strict=True)}
    return jsonify(answer)
