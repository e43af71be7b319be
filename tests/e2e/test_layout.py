"""Phone width in a real browser: at 390 × 844 no list page scrolls sideways, and each row of a
list is a card whose state and action buttons are in view; the contract history reads as a
compact block per line. At 1366 px the same tables are ordinary tables. A screenshot of each
page at 390 px is kept under test-results/ (CI keeps it as an artifact)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import Operation, Subscription
from tests.e2e.test_login_and_menus import log_in
from tests.factories import CPFS, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "390px"

TV = "/integradores/tv/clientes"
LICENCAS = "/integradores/licencas/assinantes"
OPERACOES = "/integradores/operacoes"
CONTRACT_PAGE = "/financeiro/painel-do-cliente/contratos/{}"
PLANS = "/configuracoes/planos"


@pytest.fixture
def day(app):
    """An ITTV and a Skeelo plan with contracts in each list: synced (active, its request on its
    way: no worker runs), blocked, suspended; a long name and e-mail to test the wrapping."""
    tv, books = ittv_plan(app), skeelo_plan(app)
    contracts = {}
    for index, (name, plan, then) in enumerate(
        [
            ("Maria Aparecida dos Santos Oliveira de Albuquerque", tv, ()),
            ("João da Silva", tv, ("block",)),
            ("Empresa de Telecomunicações do Vale Ltda", tv, ("suspend",)),
            ("Ana Leitora", books, ()),
        ]
    ):
        email = f"cliente.com.um.endereco.bem.comprido.{index}@provedor-exemplo.com.br"
        contract_id = make_contract(app, make_client(app, document=CPFS[index], name=name, email=email), plan)
        for action in ("sync", *then):
            act(app, contract_id, action)
        contracts[name.split()[0].lower()] = contract_id
    return contracts


def no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways at {widths[1]} px: {widths[0]} px wide"


def within_width(page: Page, locator) -> None:
    """The element is shown and lies inside the viewport's width."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (locator, box, width)


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", name)
    page.screenshot(path=str(SCREENSHOTS / f"{safe}.png"), full_page=True)


def visit(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    no_sideways_scroll(page)
    screenshot(page, name)


def test_at_390px_lists_are_cards_with_state_and_actions_in_view_and_nothing_scrolls_sideways(
    app, page: Page, live_server, make_user, day
):
    page.set_viewport_size(PHONE)
    make_user("admin", username="ana", name="Ana Admin")
    log_in(page, live_server, "ana")
    no_sideways_scroll(page)
    screenshot(page, "inicio")

    # Integradores, Clientes de TV: each row a card, its state and its named buttons in view.
    visit(page, live_server + TV, "clientes-de-tv-ativos")
    row = page.locator(f'tr[data-contract="{day["maria"]}"]')
    within_width(page, row.get_by_test_id("remote-status"))
    for name in ("Bloqueio parcial", "Bloqueio total"):
        button = row.get_by_role("button", name=name)
        within_width(page, button)
        expect(button).to_contain_text(name)  # the word is shown, not only its tooltip
    expect(row.get_by_test_id("desired-status")).to_have_attribute("data-label", "Acesso pedido")
    expect(page.locator("table.table-cards thead")).not_to_be_in_viewport()

    visit(page, live_server + TV + "?aba=bloqueados", "clientes-de-tv-bloqueados")
    row = page.locator(f'tr[data-contract="{day["joão"]}"]')
    within_width(page, row.get_by_test_id("remote-status"))
    within_width(page, row.get_by_role("button", name="Desbloqueio"))

    visit(page, live_server + TV + "?aba=cancelados", "clientes-de-tv-cancelados")
    within_width(page, page.locator(f'tr[data-contract="{day["empresa"]}"]').get_by_test_id("remote-status"))

    visit(page, live_server + LICENCAS, "licencas-assinantes")
    row = page.locator(f'tr[data-contract="{day["ana"]}"]')
    within_width(page, row.get_by_role("button", name="Bloquear"))

    # Operações: the state of each request in view; the labels stay after the page's polling
    # puts fresh rows in place (the requests wait: no worker runs).
    visit(page, live_server + OPERACOES, "operacoes")
    states = page.get_by_test_id("operation-state")
    expect(states.first).to_be_visible()
    for index in range(states.count()):
        within_width(page, states.nth(index))
    expect(states.first).to_have_attribute("data-label", "Situação")

    # The contract page and its history: date, author and request together, readable.
    visit(page, live_server + CONTRACT_PAGE.format(day["joão"]), "contrato-com-historico")
    history = page.locator("table.history-table > tbody > tr")
    expect(history.first).to_be_visible()
    for index in range(history.count()):
        line = history.nth(index)
        when, asked = line.locator("td.history-when"), line.locator("td.history-asked")
        within_width(page, when)
        within_width(page, line.locator("td.history-who"))
        within_width(page, asked)
        # Date and author share a line; the request follows right under them.
        when_box, asked_box = when.bounding_box(), asked.bounding_box()
        assert asked_box["y"] - (when_box["y"] + when_box["height"]) < 24, (when_box, asked_box)

    # Configurações lists.
    visit(page, live_server + PLANS, "configuracoes-planos")
    for plan_row in page.locator("table.table-cards > tbody > tr").all():
        within_width(page, plan_row.locator("td").nth(7).locator(".badge"))  # Situação
        for name in ("Editar", "Desativar", "Remover"):
            within_width(page, plan_row.locator("td.row-actions").get_by_text(name, exact=True))
    for url, name in [
        ("/configuracoes/plataformas", "configuracoes-plataformas"),
        ("/configuracoes/reguas/simular", "configuracoes-simular-regua"),
        ("/configuracoes/reguas", "configuracoes-reguas"),
        ("/configuracoes/usuarios", "configuracoes-usuarios"),
        ("/configuracoes/auditoria", "configuracoes-auditoria"),
        ("/financeiro/painel-do-cliente/", "painel-do-cliente"),
        ("/financeiro/painel-do-cliente/titulos", "titulos"),
        ("/integradores/licencas/licencas", "licencas"),
        ("/integradores/conciliacao", "conciliacao"),
        ("/", "inicio"),
    ]:
        visit(page, live_server + url, name)


def test_a_row_the_polling_puts_in_place_keeps_its_labels_and_its_action_in_view(
    app, page: Page, live_server, make_user, day
):
    page.set_viewport_size(PHONE)
    make_user("operador", username="olga", name="Olga Operadora")
    log_in(page, live_server, "olga")
    page.goto(live_server + OPERACOES)
    with app.app_context():
        op = db.session.scalar(db.select(Operation).join(Subscription).where(Subscription.contract_id == day["maria"]))
        op_id = op.id
    row = page.locator(f'tr[data-operation="{op_id}"]')
    expect(row.get_by_test_id("operation-state")).to_have_attribute("data-label", "Situação")
    # The request fails while the page follows it: the page puts the fresh row in place.
    with app.app_context():
        db.session.execute(
            db.update(Operation).where(Operation.id == op_id).values(status="failed", last_error="Recusado no teste.")
        )
        db.session.commit()
    retry = row.get_by_role("button", name="Tentar novamente")
    expect(retry).to_be_visible(timeout=15_000)
    within_width(page, retry)
    expect(row.get_by_test_id("operation-state")).to_have_attribute("data-label", "Situação")
    expect(row.locator("td").first).to_have_attribute("data-label", "Nº")
    no_sideways_scroll(page)


def test_at_1366px_the_lists_are_ordinary_tables(app, page: Page, live_server, make_user, day):
    page.set_viewport_size(DESKTOP)
    make_user("admin", username="ana", name="Ana Admin")
    log_in(page, live_server, "ana")
    for url in (TV, OPERACOES, CONTRACT_PAGE.format(day["joão"]), PLANS):
        page.goto(live_server + url)
        table = page.locator("table.table-cards").last
        expect(table.locator("thead th").first).to_be_visible()
        displays = table.evaluate("t => [getComputedStyle(t).display, getComputedStyle(t.tBodies[0].rows[0]).display]")
        assert displays == ["table", "table-row"], (url, displays)
        no_sideways_scroll(page)
