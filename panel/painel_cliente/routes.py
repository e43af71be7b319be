"""The Painel do Cliente's landing page: *Últimos 1000 novos cadastros ativos* and the search."""

from flask import render_template, request, url_for

from panel.domain import clients as clients_domain
from panel.models import Role
from panel.painel_cliente import bp
from panel.security import requires

SEARCH_PAGE = 100


def _before_id() -> int | None:
    value = request.args.get("antes", "")
    # ASCII digits that fit an id; anything else starts from the first page.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


@bp.route("/")
@requires(Role.leitura)
def index():
    query = " ".join(request.args.get("q", "").split())[:120]
    before_id = _before_id()
    if query:
        size = SEARCH_PAGE
        found = clients_domain.search(query, before_id=before_id, limit=size + 1)
    else:
        size = clients_domain.LANDING_SIZE
        found = clients_domain.latest_active(before_id=before_id, limit=size + 1)
    # One more than a page tells whether there is a next one, without counting.
    page, more = found[:size], len(found) > size
    next_url = url_for(".index", q=query or None, antes=page[-1].id) if more else None
    first_url = url_for(".index", q=query or None) if before_id is not None else None
    return render_template("painel_cliente/index.html", clients=page, query=query, next_url=next_url,
                           first_url=first_url, page_size=size)
