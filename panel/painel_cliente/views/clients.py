"""Pessoas / Empresas: the landing page (*Últimos 1000 novos cadastros ativos* and the search),
and registering, changing and reading a client (with their contracts)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from panel.domain import clients as clients_domain
from panel.extensions import db
from panel.formats import document, phone, zipcode
from panel.models import Client, ClientKind, Role
from panel.painel_cliente import bp
from panel.painel_cliente.forms import ClientForm
from panel.security import requires
from panel.web import attempt, current_actor, id_arg, keyset_page, search_arg

SEARCH_PAGE = 100


@bp.route("/")
@requires(Role.leitura)
def index():
    # Not an id ("٣", 10²³): the first page. Control characters in the search read as spaces.
    query, before_id = search_arg(), id_arg("antes")
    if query:
        size = SEARCH_PAGE
        page = keyset_page(lambda limit: clients_domain.search(query, before_id=before_id, limit=limit), size)
    else:
        size = clients_domain.LANDING_SIZE
        page = keyset_page(lambda limit: clients_domain.latest_active(before_id=before_id, limit=limit), size)
    next_url = url_for(".index", q=query or None, antes=page.next_key) if page.next_key is not None else None
    first_url = url_for(".index", q=query or None) if before_id is not None else None
    return render_template(
        "painel_cliente/index.html",
        clients=page.items,
        query=query,
        next_url=next_url,
        first_url=first_url,
        page_size=size,
    )


def _data(form: ClientForm) -> clients_domain.ClientData:
    return clients_domain.ClientData(
        **{
            name: form[name].data
            for name in (
                "kind",
                "name",
                "document",
                "email",
                "phone",
                "zipcode",
                "street",
                "number",
                "complement",
                "city",
                "state",
                "active",
            )
        }
    )


def _save(form: ClientForm, client: Client | None) -> Client:
    if client is None:
        return clients_domain.create_client(current_actor(), _data(form))
    return clients_domain.update_client(current_actor(), client, _data(form))


def _form_page(form: ClientForm, client: Client | None):
    if form.kind.data in (ClientKind.pf.value, ClientKind.pj.value):
        kind = ClientKind(form.kind.data)
        form.name.label.text, form.document.label.text = kind.name_label, kind.document_label
    if form.validate_on_submit():
        outcome = attempt(
            lambda: _save(form, client), form=form, success=lambda saved: f"Cadastro de {saved.name} salvo."
        )
        if outcome:
            saved = outcome.value
            if not saved.active and any(c.status != "cancelled" for c in saved.contracts):
                flash(
                    "O cadastro está inativo, mas seus contratos seguem como estão: suspenda ou cancele-os no "
                    "contrato, se for o caso.",
                    "warning",
                )
            return redirect(url_for(".client_detail", client_id=saved.id))
    return render_template("painel_cliente/client_form.html", form=form, client=client)


@bp.route("/clientes/novo", methods=["GET", "POST"])
@requires(Role.operador)
def client_new():
    form = ClientForm()
    if request.method == "GET" and request.args.get("tipo") in (ClientKind.pf.value, ClientKind.pj.value):
        form.kind.data = request.args["tipo"]
    return _form_page(form, None)


@bp.route("/clientes/<int:client_id>/editar", methods=["GET", "POST"])
@requires(Role.operador)
def client_edit(client_id: int):
    client = db.get_or_404(Client, client_id)
    form = ClientForm(obj=client)
    if request.method == "GET":
        # Shown as people read them; the domain takes them with or without punctuation.
        form.document.data, form.phone.data, form.zipcode.data = (
            document(client.document),
            phone(client.phone),
            zipcode(client.zipcode),
        )
    return _form_page(form, client)


@bp.route("/clientes/<int:client_id>")
@requires(Role.leitura)
def client_detail(client_id: int):
    client = db.get_or_404(Client, client_id)
    return render_template("painel_cliente/client_detail.html", client=client)
