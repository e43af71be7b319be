"""*Gerenciador de licenças → Licenças*: per platform and month, the subscribers each platform
bills (by its billing mode), the month's movement, the value to pay, and the platform's own count
from the last reconciliation; the subscribers behind each number, on a page and in CSV. Everyone
who reads the lists reads this (leitura and up)."""

from __future__ import annotations

from flask import abort, render_template, request, url_for

from panel.domain import licences as licences_domain
from panel.domain.common import local_today
from panel.exports import csv_response, in_batches
from panel.extensions import db
from panel.formats import document
from panel.integradores import bp
from panel.integradores.forms import number_arg
from panel.models import Platform, Role
from panel.security import requires
from panel.web import keyset_page

PAGE_SIZE = 50


def _month():
    return licences_domain.parse_month(request.args.get("mes"), licences_domain.month_start(local_today()))


@bp.route("/licencas/licencas")
@requires(Role.leitura)
def licences():
    month, error = _month()
    return render_template(
        "integradores/licences.html",
        month=month,
        month_error=error,
        lines=licences_domain.ledger(month),
        numbers=licences_domain.NUMBERS,
        movements=licences_domain.MOVEMENTS,
    )


LEDGER_HEADER = [
    "Mês",
    "Plataforma",
    "Código",
    "Contagem",
    "Assinantes cobrados",
    *licences_domain.MOVEMENTS.values(),
    "Preço por assinante (R$)",
    "Valor a pagar (R$)",
    "Contagem da plataforma (última conciliação)",
    "Conciliação em",
    "Dias com foto no mês",
]


@bp.route("/licencas/licencas.csv")
@requires(Role.leitura)
def licences_csv():
    month, _error = _month()
    rows = [  # one line per platform: read now, before the response streams
        [
            month.strftime("%m/%Y"),
            line.platform.name,
            line.platform.code,
            line.mode_label,
            line.billable,
            *(line.movement[kind] for kind in licences_domain.MOVEMENTS),
            line.unit_price,
            line.amount,
            line.reconciliation[0] if line.reconciliation else None,
            line.reconciliation[1] if line.reconciliation else None,
            line.snapshots,
        ]
        for line in licences_domain.ledger(month)
    ]
    return csv_response(f"licencas-{month:%Y-%m}.csv", LEDGER_HEADER, rows)


def _platform_and_number(platform_id: int, number: str) -> Platform:
    if number not in licences_domain.NUMBERS:
        abort(404)
    return db.get_or_404(Platform, platform_id)


@bp.route("/licencas/licencas/<int:platform_id>/<number>")
@requires(Role.leitura)
def licence_entries(platform_id: int, number: str):
    platform = _platform_and_number(platform_id, number)
    month, error = _month()
    after = number_arg("depois")
    page = keyset_page(
        lambda limit: licences_domain.entries(platform, month, number, after=after, limit=limit),
        PAGE_SIZE,
        key=lambda entry: entry.key,
    )
    query = {"mes": f"{month:%Y-%m}"}
    return render_template(
        "integradores/licence_entries.html",
        platform=platform,
        month=month,
        month_error=error,
        number=number,
        title=licences_domain.NUMBERS[number],
        entries=page.items,
        csv_url=url_for(".licence_entries_csv", platform_id=platform.id, number=number, **query),
        back_url=url_for(".licences", **query),
        next_url=url_for(".licence_entries", platform_id=platform.id, number=number, **query, depois=page.next_key)
        if page.next_key is not None
        else None,
        first_url=url_for(".licence_entries", platform_id=platform.id, number=number, **query)
        if after is not None
        else None,
    )


@bp.route("/licencas/licencas/<int:platform_id>/<number>.csv")
@requires(Role.leitura)
def licence_entries_csv(platform_id: int, number: str):
    platform = _platform_and_number(platform_id, number)
    # The rows are read while the response streams, after the request's transaction ended: the
    # platform goes with its attributes loaded, out of the session that ends.
    db.session.expunge(platform)
    month, _error = _month()
    entries = in_batches(
        lambda after, limit: licences_domain.entries(platform, month, number, after=after, limit=limit),
        key=lambda entry: entry.key,
    )
    header = ["Contrato", "Cliente", "CPF/CNPJ", "E-mail", "Plataforma", "Lista atual", "Quando"]
    rows = (
        [
            entry.contract.id,
            entry.client.name,
            document(entry.client.document),
            entry.client.email,
            platform.name,
            entry.subscription.list_tab.label,
            entry.changed_at,
        ]
        for entry in entries
    )
    return csv_response(f"licencas-{platform.code.lower()}-{number}-{month:%Y-%m}.csv", header, rows)
