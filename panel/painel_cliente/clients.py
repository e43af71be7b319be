"""Pessoas / Empresas: register, change and read a client (with their contracts)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from panel.domain import DomainError
from panel.domain import clients as clients_domain
from panel.extensions import db
from panel.formats import document, phone, zipcode
from panel.models import Client, ClientKind, Role
from panel.painel_cliente import bp
from panel.painel_cliente.forms import ClientForm
from panel.security import requires
from panel.web import attach_error, current_actor


def load_client(client_id: int) -> Client:
    return db.session.get(Client, client_id) or abort(404)


def _data(form: ClientForm) -> clients_domain.ClientData:
    return clients_domain.ClientData(**{name: form[name].data for name in (
        "kind", "name", "document", "email", "phone", "zipcode", "street", "number", "complement", "city",
        "state", "active",
    )})


def _form_page(form: ClientForm, client: Client | None):
    if form.kind.data in (ClientKind.pf.value, ClientKind.pj.value):
        kind = ClientKind(form.kind.data)
        form.name.label.text, form.document.label.text = kind.name_label, kind.document_label
    if form.validate_on_submit():
        try:
            if client is None:
                saved = clients_domain.create_client(current_actor(), _data(form))
            else:
                saved = clients_domain.update_client(current_actor(), client, _data(form))
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(f"Cadastro de {saved.name} salvo.", "success")
            if not saved.active and any(c.status != "cancelled" for c in saved.contracts):
                flash("O cadastro está inativo, mas seus contratos seguem como estão: suspenda ou cancele-os no "
                      "contrato, se for o caso.", "warning")
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
    client = load_client(client_id)
    form = ClientForm(obj=client)
    if request.method == "GET":
        # Shown as people read them; the domain takes them with or without punctuation.
        form.document.data, form.phone.data, form.zipcode.data = (
            document(client.document), phone(client.phone), zipcode(client.zipcode))
    return _form_page(form, client)


@bp.route("/clientes/<int:client_id>")
@requires(Role.leitura)
def client_detail(client_id: int):
    client = load_client(client_id)
    return render_template("painel_cliente/client_detail.html", client=client)
