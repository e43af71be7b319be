"""*Exportar CSV* of the Integradores lists: the subscribers of a tab (Clientes de TV,
Gerenciador de licenças → Assinantes) and Operações, with the page's filters and search, the
page's columns in its words, streamed in keyset batches (panel/exports.py). Who may read the
page may export it."""

from __future__ import annotations

from panel.domain import operations as operations_domain
from panel.domain import subscribers as subscribers_domain
from panel.domain.common import local_today
from panel.domain.subscribers import Row
from panel.domain.vocabulary import AccessStatus
from panel.exports import csv_response, in_batches
from panel.formats import document
from panel.integradores import bp
from panel.integradores.views.operations import operation_filter
from panel.integradores.views.subscribers import AREAS, Area, list_filter
from panel.models import Operation, OperationKind, Role
from panel.security import requires

SUBSCRIBER_HEADER = [
    "Contrato",
    "Código do cliente",
    "Cliente",
    "CPF/CNPJ",
    "E-mail",
    "Plano",
    "Plataforma",
    "Acesso pedido",
    "Situação do contrato",
    "Acesso na plataforma",
    "Pendente",
    "Último pedido",
    "Situação do último pedido",
    "Último pedido em",
]
OPERATION_HEADER = [
    "Nº",
    "Pedido em",
    "Contrato",
    "Código do cliente",
    "Cliente",
    "CPF/CNPJ",
    "Pedido",
    "Plataforma",
    "Pedido por",
    "Tentativas",
    "Situação",
    "Resultado ou erro",
    "Concluída em",
]


def access_label(status: str | None, empty: str = "") -> str:
    return AccessStatus(status).label if status else empty


def request_label(operation: Operation) -> str:
    """What was asked, as Operações writes it: "Alterar situação (bloqueio total)"."""
    label = operation.kind.label
    if operation.kind is OperationKind.set_status and operation.target_status:
        label += f" ({access_label(operation.target_status).lower()})"
    return label


def subscriber_cells(row: Row) -> tuple:
    subscription, contract, client, operation = row.subscription, row.contract, row.client, row.operation
    return (
        contract.id,
        client.id,
        client.name,
        document(client.document),
        client.email or "",
        contract.plan_name,
        row.platform.name,
        access_label(subscription.desired_status),
        contract.status.label,
        access_label(subscription.remote_status, "Não confirmado"),
        row.pending,
        request_label(operation) if operation else "",
        operation.status.label if operation else "",
        operation.created_at if operation else None,
    )


def operation_cells(operation: Operation) -> tuple:
    subscription = operation.subscription
    contract = subscription.contract
    outcome = operation.last_error if operation.status == "failed" else (operation.result or operation.last_error)
    return (
        operation.id,
        operation.created_at,
        contract.id,
        contract.client.id,
        contract.client.name,
        document(contract.client.document),
        request_label(operation),
        subscription.platform.name,
        operation.requested_by_name,
        operation.attempts,
        operation.status.label,
        outcome or "",
        operation.finished_at,
    )


def _subscribers_csv(area: Area):
    shown = list_filter(area)
    platform_ids = shown.platform_ids

    def fetch(after: int | None, limit: int) -> list[Row]:
        return subscribers_domain.page(platform_ids, shown.tab, text=shown.query, before_id=after, limit=limit)

    rows = in_batches(fetch, key=lambda row: row.subscription.id)
    name = f"assinantes-{area.key}-{shown.params['aba']}-{local_today().isoformat()}.csv"
    return csv_response(name, SUBSCRIBER_HEADER, (subscriber_cells(row) for row in rows))


@bp.route("/tv/clientes.csv")
@requires(Role.leitura)
def tv_clients_csv():
    return _subscribers_csv(AREAS["tv"])


@bp.route("/licencas/assinantes.csv")
@requires(Role.leitura)
def licence_subscribers_csv():
    return _subscribers_csv(AREAS["licencas"])


@bp.route("/operacoes.csv")
@requires(Role.leitura)
def operations_csv():
    shown = operation_filter()

    def fetch(after: int | None, limit: int) -> list[Operation]:
        batch = operations_domain.recent(**shown.query(before_id=after, limit=limit))
        subscribers_domain.attach_subscriptions(batch)  # one query per batch, not one per row
        return batch

    rows = in_batches(fetch)
    name = f"operacoes-{local_today().isoformat()}.csv"
    return csv_response(name, OPERATION_HEADER, (operation_cells(operation) for operation in rows))
