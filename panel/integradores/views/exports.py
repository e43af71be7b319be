"""*Exportar CSV* of the Integradores lists: the subscribers of a tab (Clientes de TV,
Gerenciador de licenças → Assinantes) and Operações, with the page's filters and search, the
page's columns in its words, streamed in keyset batches (panel/exports.py). Who may read the
page may export it."""

from __future__ import annotations

from panel.domain import operations as operations_domain
from panel.domain import subscribers as subscribers_domain
from panel.domain import words
from panel.domain.common import local_today
from panel.exports import csv_response, in_batches
from panel.formats import document
from panel.integradores import bp
from panel.integradores.views.operations import operation_filter
from panel.integradores.views.subscribers import AREAS, Area, list_filter
from panel.models import Operation, OperationStatus, Role
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


def access_label(status: str | None, empty: str = "", platform_kind: str | None = None) -> str:
    return words.access_word(status, platform_kind) if status else empty


def request_label(operation: Operation, platform_kind: str | None = None) -> str:
    """What was asked, as Operações writes it: "Bloqueio total", "Cancelamento"."""
    return words.request_word(operation.kind, operation.target_status, platform_kind)


def subscriber_cells(row) -> tuple:
    """A row of subscribers_domain.listed_rows in the page's words."""
    op_status = OperationStatus(row.op_status) if row.op_status else None
    pending = row.remote_status != row.desired_status or (
        op_status is not None and (not op_status.finished or op_status is OperationStatus.failed)
    )  # as Row.pending: the page shows such a row with its request's state
    return (
        row.contract_id,
        row.client_id,
        row.client_name,
        document(row.document),
        row.email or "",
        row.plan_name,
        row.platform_name,
        access_label(row.desired_status, platform_kind=row.platform_kind),
        words.contract_word(row.contract_status),
        access_label(row.remote_status, "Aguardando confirmação", row.platform_kind),
        pending,
        words.request_word(row.op_kind, row.op_target, row.platform_kind) if row.op_kind else "",
        words.progress_word(op_status) if op_status else "",
        row.op_created_at,
    )


def operation_cells(operation: Operation, owner: subscribers_domain.Owner) -> tuple:
    outcome = operation.last_error if operation.status == "failed" else (operation.result or operation.last_error)
    return (
        operation.id,
        operation.created_at,
        owner.contract_id,
        owner.client_id,
        owner.client_name,
        document(owner.document),
        request_label(operation, owner.platform_kind),
        owner.platform_name,
        operation.requested_by_name,
        operation.attempts,
        words.progress_word(operation.status),
        outcome or "",
        operation.finished_at,
    )


def _subscribers_csv(area: Area):
    shown = list_filter(area)
    platform_ids = shown.platform_ids

    def fetch(after: int | None, limit: int) -> list:
        return subscribers_domain.listed_rows(platform_ids, shown.tab, text=shown.query, before_id=after, limit=limit)

    rows = in_batches(fetch)
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

    def fetch(after: int | None, limit: int) -> list[tuple[Operation, subscribers_domain.Owner]]:
        batch = operations_domain.recent(**shown.query(before_id=after, limit=limit))
        found = subscribers_domain.owners(operation.subscription_id for operation in batch)  # by key, per batch
        return [(operation, found[operation.subscription_id]) for operation in batch]

    rows = in_batches(fetch, key=lambda pair: pair[0].id)
    name = f"operacoes-{local_today().isoformat()}.csv"
    return csv_response(name, OPERATION_HEADER, (operation_cells(*pair) for pair in rows))
