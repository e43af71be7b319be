"""The Painel do Cliente's landing page: *Últimos 1000 novos cadastros ativos* and the search."""

from flask import render_template, url_for

from panel.domain import clients as clients_domain
from panel.models import Role
from panel.painel_cliente import bp
from panel.security import requires
from panel.web import id_arg, search_arg

SEARCH_PAGE = 100


@bp.route("/")
@requires(Role.leitura)
def index():
    # Not an id ("٣", 10²³): the first page. Control characters in the search read as spaces.
    query, before_id = search_arg(), id_arg("antes")
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
