"""*Operações*: the requests sent (or on their way) to the platforms, recent and failed, with
*Tentar novamente*; and the contract page's *Últimos pedidos*, which follows them. Filtered by a
run of the régua (``?execucao=<run id>``, linked from *Simular régua*), the page lists that run's
failed requests first, then all of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import abort, redirect, render_template, request, url_for

from panel.domain import operations as operations_domain
from panel.domain import regua as regua_domain
from panel.domain import subscribers as subscribers_domain
from panel.domain.platforms import list_platforms
from panel.extensions import db
from panel.integradores import bp
from panel.integradores.forms import choice_arg, number_arg, posted_back
from panel.integradores.views.subscribers import circuits
from panel.models import Operation, OperationKind, ReguaRun, Role
from panel.models.types import utcnow
from panel.security import requires
from panel.web import attempt, current_actor, keyset_page, safe_next

PAGE_SIZE = 50
# Situação: the query-string value → (label, the status filter operations.recent takes).
SITUATIONS = {
    "todas": ("Todas", None),
    "andamento": ("Pendentes ou em andamento", "pending"),
    "falhas": ("Falhas", "failed"),
    "concluidas": ("Concluídas", "done"),
}
KINDS = {kind.value: kind for kind in OperationKind}
# Período: the query-string value → (label, how far back); the overview links to the last 24 h.
PERIODS = {"24h": ("Últimas 24 horas", timedelta(hours=24)), "7d": ("Últimos 7 dias", timedelta(days=7))}


@dataclass(frozen=True)
class OperationFilter:
    """What Operações shows, read from its query string (the page and its CSV export alike)."""

    platforms: list
    situation: str
    platform_id: int | None
    kind: str
    contract_id: int | None
    run: ReguaRun | None
    period: str = ""

    @property
    def run_id(self) -> int | None:
        return self.run.id if self.run is not None else None

    def query(self, **more) -> dict:
        """The arguments of operations.recent for this filter."""
        return {
            "status": SITUATIONS[self.situation][1],
            "platform_id": self.platform_id,
            "kind": self.kind or None,
            "contract_id": self.contract_id,
            "regua_run_id": self.run_id,
            "since": utcnow() - PERIODS[self.period][1] if self.period else None,
            **more,
        }

    @property
    def params(self) -> dict:
        return {
            "situacao": self.situation if self.situation != "todas" else None,
            "plataforma": self.platform_id,
            "tipo": self.kind or None,
            "contrato": self.contract_id,
            "execucao": self.run_id,
            "periodo": self.period or None,
        }


def operation_filter() -> OperationFilter:
    platforms = list_platforms()
    platform_id = number_arg("plataforma")
    platform_id = platform_id if platform_id in {platform.id for platform in platforms} else None
    run_id = number_arg("execucao")
    run = db.session.get(ReguaRun, run_id) if run_id is not None else None  # none such: no filter
    return OperationFilter(
        platforms,
        choice_arg("situacao", SITUATIONS, "todas"),
        platform_id,
        choice_arg("tipo", KINDS, ""),
        number_arg("contrato"),
        run,
        choice_arg("periodo", PERIODS, ""),
    )


@bp.route("/operacoes")
@requires(Role.leitura)
def operations():
    shown = operation_filter()
    platforms = shown.platforms
    by_id = {platform.id: platform for platform in platforms}
    situation, platform_id, kind, contract_id = shown.situation, shown.platform_id, shown.kind, shown.contract_id
    run, run_id = shown.run, shown.run_id
    before_id = number_arg("antes")
    page = keyset_page(
        lambda limit: operations_domain.recent(**shown.query(before_id=before_id, limit=limit)), PAGE_SIZE
    )
    listed = page.items
    # A run's failures first (on the first page, when the list is not already its failures).
    failures = (
        keyset_page(
            lambda limit: operations_domain.recent(
                status="failed",
                platform_id=platform_id,
                kind=kind or None,
                contract_id=contract_id,
                regua_run_id=run_id,
                limit=limit,
            ),
            PAGE_SIZE,
        )
        if run is not None and before_id is None and situation == "todas"
        else None
    )
    shown_ops = listed + (failures.items if failures else [])
    subscribers_domain.attach_subscriptions(shown_ops)  # one query, not one per row
    filters = shown.params
    period = shown.period
    shown = [by_id[platform_id]] if platform_id else platforms
    return render_template(
        "integradores/operations.html",
        operations=listed,
        platforms=platforms,
        situations=SITUATIONS,
        kinds=KINDS,
        situation=situation,
        platform_id=platform_id,
        kind=kind,
        periods=PERIODS,
        period=period,
        contract_id=contract_id,
        circuits=circuits(shown),
        back_url=request.full_path.rstrip("?"),
        latest=operations_domain.latest_ids({op.subscription_id for op in shown_ops}),
        run=run,
        describe_run=regua_domain.describe_run,
        failures=failures,
        filters=filters,
        next_url=url_for(".operations", **filters, antes=page.next_key) if page.next_key is not None else None,
        first_url=url_for(".operations", **filters) if before_id is not None else None,
    )


@bp.route("/operacoes/<int:operation_id>/situacao")
@requires(Role.leitura)
def operation_status(operation_id: int):
    """An Operações row's state, polled while the operation runs."""
    operation = db.get_or_404(Operation, operation_id)
    back = safe_next(request.args.get("voltar"), url_for(".operations"))
    return render_template(
        "integradores/_operation_row.html",
        op=operation,
        back_url=back,
        latest=operations_domain.latest_ids([operation.subscription_id]),
    )


@bp.route("/operacoes/<int:operation_id>/tentar-novamente", methods=["POST"])
@requires(Role.operador)
def operation_retry(operation_id: int):
    operation = db.get_or_404(Operation, operation_id)
    back = posted_back(url_for(".operations"))
    attempt(
        lambda: operations_domain.retry(current_actor(), operation),
        success=f"Operação {operation_id}: nova tentativa solicitada.",
    )
    return redirect(back)


@bp.route("/assinantes/<int:subscription_id>/pedidos")
@requires(Role.leitura)
def subscriber_requests(subscription_id: int):
    """The contract page's subscriber box (*Últimos pedidos*), polled while one runs: the
    subscriber and its requests read together (subscribers_domain.box)."""
    box = subscribers_domain.box(subscription_id)
    if box is None:
        abort(404)
    return render_template("integradores/_subscriber_box.html", box=box)
