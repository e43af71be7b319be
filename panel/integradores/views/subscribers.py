"""*Gerenciamento TV → Clientes de TV* and *Gerenciador de licenças → Assinantes*: the tabs
*Assinantes ativos / bloqueados / cancelados ou suspensos*, the row actions (block, partial
block, unblock), the same actions on the ticked rows at once, and the state cell the page
follows while a request is on its way to the platform."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from panel.domain import contracts as contracts_domain
from panel.domain import subscribers as subscribers_domain
from panel.domain.contract_rules import ContractAction
from panel.extensions import db
from panel.formats import ngettext
from panel.integradores import bp
from panel.integradores.forms import choice_arg, number_arg, posted_back, posted_contract_ids, search_arg
from panel.jobs.circuit import circuit_state
from panel.models import Contract, ListTab, Role
from panel.security import requires
from panel.web import attempt, current_actor, keyset_page, safe_next


@dataclass(frozen=True)
class RowAction:
    """A subscriber action as one area's screen offers it (the seeds' words)."""

    action: ContractAction
    path: str  # /integradores/contratos/<id>/<path>
    label: str
    icon: str
    css: str
    confirm: str  # formatted with contract, client and platform names
    short: str = ""  # the word the row's button shows next to its icon (label: its full name)


@dataclass(frozen=True)
class Area:
    key: str
    plan_type: str  # the adapters' plan_type: 'tv_ott' (operadoras) or 'sva' (fornecedores)
    endpoint: str
    section: str  # the menu path, as in the ERP
    title: str
    actions: tuple[RowAction, ...]


PARTIAL = RowAction(
    ContractAction.partial_block,
    "bloqueio-parcial",
    "Bloqueio parcial dos pontos deste contrato",
    "dash-circle",
    "btn-outline-warning",
    "Bloqueio parcial dos pontos do contrato {contract} ({client})? Na {platform}, o assinante fica só com o "
    "pacote base.",
    short="Bloqueio parcial",
)
TOTAL = RowAction(
    ContractAction.block,
    "bloqueio-total",
    "Bloqueio total dos pontos deste contrato",
    "slash-circle",
    "btn-outline-danger",
    "Bloqueio total dos pontos do contrato {contract} ({client})? O acesso na {platform} será bloqueado.",
    short="Bloqueio total",
)
UNBLOCK = RowAction(
    ContractAction.unblock,
    "desbloqueio",
    "Desbloqueio dos pontos deste contrato",
    "check-circle",
    "btn-outline-success",
    "Desbloqueio dos pontos do contrato {contract} ({client})? O acesso completo na {platform} será liberado.",
    short="Desbloqueio",
)

AREAS = {
    "tv": Area(
        "tv", "tv_ott", "integradores.tv_clients", "Gerenciamento TV", "Clientes de TV", (PARTIAL, TOTAL, UNBLOCK)
    ),
    "licencas": Area(
        "licencas",
        "sva",
        "integradores.licence_subscribers",
        "Gerenciador de licenças",
        "Assinantes",
        (
            RowAction(
                ContractAction.block,
                "bloqueio-total",
                "Bloquear assinante",
                "slash-circle",
                "btn-outline-danger",
                "Bloquear o assinante do contrato {contract} ({client})? O acesso na {platform} será bloqueado.",
                short="Bloquear",
            ),
            RowAction(
                ContractAction.unblock,
                "desbloqueio",
                "Desbloquear assinante",
                "check-circle",
                "btn-outline-success",
                "Desbloquear o assinante do contrato {contract} ({client})? O acesso na {platform} será liberado.",
                short="Desbloquear",
            ),
        ),
    ),
}
# The posted paths (the same for both areas), and the tabs by their query-string names.
ACTIONS = {row_action.path: row_action.action for row_action in (PARTIAL, TOTAL, UNBLOCK)}
TABS = {"ativos": ListTab.active, "bloqueados": ListTab.blocked, "cancelados": ListTab.inactive}
TAB_PARAMS = {tab: param for param, tab in TABS.items()}
# What the bulk bar offers on each tab (the domain refuses anything else, row by row).
TAB_ACTIONS = {
    ListTab.active: {ContractAction.partial_block, ContractAction.block},
    ListTab.blocked: {ContractAction.partial_block, ContractAction.block, ContractAction.unblock},
    ListTab.inactive: set(),
}


def circuits(platforms) -> list:
    """The open circuits (calls paused after repeated failures) of these platforms."""
    return [state for platform in platforms if (state := circuit_state(platform.id, platform.name))]


@dataclass(frozen=True)
class ListFilter:
    """What a list shows, read from its query string (the page and its CSV export alike)."""

    platforms: list
    chosen: int | None  # one platform's id, or None for all of the area's
    tab: ListTab
    query: str

    @property
    def platform_ids(self) -> list[int]:
        return [self.chosen] if self.chosen else [platform.id for platform in self.platforms]

    @property
    def params(self) -> dict:
        return {"aba": TAB_PARAMS[self.tab], "q": self.query or None, "plataforma": self.chosen}


def list_filter(area: Area) -> ListFilter:
    platforms = subscribers_domain.area_platforms(area.plan_type)
    chosen = number_arg("plataforma")
    chosen = chosen if chosen in {platform.id for platform in platforms} else None
    return ListFilter(platforms, chosen, TABS[choice_arg("aba", TABS, "ativos")], search_arg())


def _list_page(area: Area):
    shown = list_filter(area)
    platforms, chosen, tab, query = shown.platforms, shown.chosen, shown.tab, shown.query
    before_id = number_arg("antes")
    page = keyset_page(
        lambda limit: subscribers_domain.page(shown.platform_ids, tab, text=query, before_id=before_id, limit=limit),
        subscribers_domain.PAGE_SIZE,
        key=lambda row: row.subscription.id,
    )
    rows = page.items
    filters = shown.params
    possible = subscribers_domain.actions_for(platforms)
    offered = [row_action for row_action in area.actions if row_action.action in possible]
    allowed = {row.contract.id: contracts_domain.allowed_actions(row.contract) for row in rows}
    return render_template(
        "integradores/subscribers.html",
        area=area,
        platforms=platforms,
        chosen=chosen,
        tab=tab,
        tabs=TABS,
        counts=subscribers_domain.tab_counts(shown.platform_ids, text=query),
        query=query,
        rows=rows,
        filters=filters,
        offered=offered,
        allowed=allowed,
        circuits=circuits(platforms),
        bulk_actions=[row_action for row_action in offered if row_action.action in TAB_ACTIONS[tab]],
        next_url=url_for(area.endpoint, **filters, antes=page.next_key) if page.next_key is not None else None,
        first_url=url_for(area.endpoint, **filters) if before_id is not None else None,
        back_url=request.full_path.rstrip("?"),
    )


@bp.route("/tv/clientes")
@requires(Role.leitura)
def tv_clients():
    return _list_page(AREAS["tv"])


@bp.route("/licencas/assinantes")
@requires(Role.leitura)
def licence_subscribers():
    return _list_page(AREAS["licencas"])


def area_of(contract: Contract) -> Area:
    return AREAS["tv"] if contract.plan_type == "tv_ott" else AREAS["licencas"]


def row_url(contract: Contract) -> str:
    """The list that shows this contract's subscriber now: its area, on the tab it is in, filtered
    by its platform and searched by the contract number, so that its row is the one shown."""
    subscription = contract.subscription
    tab = subscription.list_tab if subscription is not None else ListTab.active
    return url_for(area_of(contract).endpoint, aba=TAB_PARAMS[tab], plataforma=contract.platform_id, q=contract.id)


def link(url: str, text: str) -> Markup:
    """A link inside a flashed message (the text escaped; the message is shown as HTML)."""
    return Markup('<a href="{}" class="alert-link">{}</a>').format(url, text)


@bp.route("/contratos/<int:contract_id>/<path>", methods=["POST"])
@requires(Role.operador)
def subscriber_action(contract_id: int, path: str):
    if path not in ACTIONS:
        abort(404)
    contract = db.get_or_404(Contract, contract_id)
    back = posted_back(url_for(area_of(contract).endpoint))
    attempt(
        lambda: contracts_domain.act(current_actor(), contract, ACTIONS[path]),
        success=lambda result: (
            Markup("Contrato {}: {}").format(contract_id, result.message) + where_now(result.contract)
        ),
        refused=lambda message: f"Contrato {contract_id}: {message}",
    )
    return redirect(back)


def where_now(contract: Contract) -> Markup:
    """Where the subscriber is after an action, with a link to its row there
    (" O assinante está agora em <a>Assinantes bloqueados</a>."), if it has one."""
    subscription = contract.subscription
    if subscription is None:
        return Markup("")
    return Markup(" O assinante está agora em {}.").format(link(row_url(contract), subscription.list_tab.label))


@bp.route("/contratos/em-lote", methods=["POST"])
@requires(Role.operador)
def bulk_action():
    back = posted_back(url_for("integradores.index"))
    path = request.form.get("acao", "")
    ids = posted_contract_ids()
    if path not in ACTIONS:
        flash("Escolha a ação a aplicar aos assinantes marcados.", "danger")
        return redirect(back)
    # Refused as a whole (none ticked, more than the limit): nothing was done, the reason is flashed.
    outcome = attempt(lambda: contracts_domain.act_many(current_actor(), ids, ACTIONS[path]))
    if outcome:
        flash(_bulk_summary(outcome.value), "warning" if outcome.value.refused else "success")
    return redirect(back)


def _bulk_summary(done: contracts_domain.BulkResult) -> Markup:
    """One line for a bulk action: what was recorded, and each refusal in a sentence
    (3 pedidos registrados; 1 recusado: contrato 12: o assinante já está bloqueado.), then where
    the rows went, with a link to that tab."""
    message = Markup(ngettext("%(num)s pedido registrado", "%(num)s pedidos registrados", len(done.results)))
    if done.refused:
        message += (
            "; "
            + ngettext("%(num)s recusado", "%(num)s recusados", len(done.refused))
            + ": "
            + "; ".join(f"contrato {contract_id}: {_in_sentence(reason)}" for contract_id, reason in done.refused)
        )
    return message + "." + _where_they_are(done.results)


def _where_they_are(results: list[contracts_domain.Result]) -> Markup:
    """ " Os assinantes estão agora em <a>Assinantes bloqueados</a>." when the accepted rows all went
    to one tab of one area (the link keeps their platform when they share one)."""
    contracts = [result.contract for result in results if result.contract.subscription is not None]
    tabs = {contract.subscription.list_tab for contract in contracts}
    areas = {area_of(contract).key for contract in contracts}
    if len(tabs) != 1 or len(areas) != 1:
        return Markup("")
    [tab], first = tabs, contracts[0]
    platforms = {contract.platform_id for contract in contracts}
    url = url_for(
        area_of(first).endpoint, aba=TAB_PARAMS[tab], plataforma=first.platform_id if len(platforms) == 1 else None
    )
    where = ngettext("O assinante está agora em", "Os assinantes estão agora em", len(contracts))
    return Markup(" {} {}.").format(where, link(url, tab.label))


def _in_sentence(reason: str) -> str:
    """A refusal's message continued after a colon: "O assinante já…" → "o assinante já…"
    (a name such as "ITTV" keeps its capitals)."""
    reason = reason.rstrip(".")
    first = reason.split(" ", 1)[0]
    keeps_capitals = len(first) > 1 and not first[1:].islower()
    return reason if not reason or keeps_capitals else reason[0].lower() + reason[1:]


@bp.route("/assinantes/<int:subscription_id>/situacao")
@requires(Role.leitura)
def subscriber_state(subscription_id: int):
    """One row's state cell (the lists ask for all of theirs at once: views/states.py)."""
    found = subscribers_domain.rows_for([subscription_id])
    if not found:
        abort(404)
    [row] = found
    back = safe_next(request.args.get("voltar"), url_for(area_of(row.contract).endpoint))
    return render_template("integradores/_subscriber_state.html", row=row, back_url=back)
