"""*Exportar CSV* of the Painel do Cliente's lists: the clients (the landing page's active
registers, or the search typed) and Financeiro → Títulos (the tab and its filters), in the
page's columns, streamed in keyset batches (panel/exports.py). Who may read the page may export
it."""

from __future__ import annotations

import dataclasses

from panel.domain import clients as clients_domain
from panel.domain import invoices as invoices_domain
from panel.domain import titles as titles_domain
from panel.domain.common import local_today
from panel.domain.plans import list_plans
from panel.domain.platforms import list_platforms
from panel.exports import csv_response, in_batches
from panel.formats import document, local_datetime, phone
from panel.models import Client, Role
from panel.painel_cliente import bp
from panel.painel_cliente.views.titles import title_filter
from panel.security import requires
from panel.web import search_arg

CLIENT_HEADER = [
    "Código",
    "Tipo",
    "Nome / Razão social",
    "CPF / CNPJ",
    "E-mail",
    "Telefone",
    "Cidade",
    "UF",
    "Cadastrado em",
    "Situação",
]
TITLE_HEADER = [
    "Título",
    "Contrato",
    "Código do cliente",
    "Cliente",
    "CPF/CNPJ",
    "Plano",
    "Plataforma",
    "Mês",
    "Vencimento",
    "Valor (R$)",
    "Dias em atraso",
    "Pago em",
    "Valor pago (R$)",
]


def client_cells(client: Client) -> tuple:
    return (
        client.id,
        client.kind.label,
        client.name,
        document(client.document),
        client.email or "",
        phone(client.phone),
        client.city or "",
        client.state or "",
        local_datetime(client.created_at, "%d/%m/%Y"),
        "Ativo" if client.active else "Inativo",
    )


def title_cells(row: titles_domain.TitleRow) -> tuple:
    invoice = row.invoice
    return (
        invoice.id,
        row.contract_id,
        row.client_id,
        row.client_name,
        document(row.client_document),
        row.plan_name,
        row.platform_name,
        invoices_domain.month_label(invoice.reference_month),
        invoice.due_date,
        invoice.amount,
        row.days_overdue,
        invoice.paid_on,
        invoice.paid_amount if invoice.paid else None,
    )


@bp.route("/clientes.csv")
@requires(Role.leitura)
def clients_csv():
    """The search's clients (active or not), or — with no search — every active register, newest
    first, as the landing page pages through them."""
    query = search_arg()

    def fetch(after: int | None, limit: int) -> list[Client]:
        if query:
            return clients_domain.search(query, before_id=after, limit=limit)
        return clients_domain.latest_active(before_id=after, limit=limit)

    name = f"clientes-{local_today().isoformat()}.csv"
    return csv_response(name, CLIENT_HEADER, (client_cells(client) for client in in_batches(fetch)))


@bp.route("/titulos.csv")
@requires(Role.leitura)
def titles_csv():
    filters, _ = title_filter(list_platforms(), list_plans())  # a value the page refuses is left out here too
    filters = dataclasses.replace(filters, today=filters.day)  # one day for the whole file, even across midnight

    def fetch(after: int | None, limit: int) -> list[titles_domain.TitleRow]:
        return titles_domain.page(filters, after_id=after, limit=limit)

    rows = in_batches(fetch, key=lambda row: row.invoice.id)
    name = f"titulos-{filters.tab}-{local_today().isoformat()}.csv"
    return csv_response(name, TITLE_HEADER, (title_cells(row) for row in rows))
