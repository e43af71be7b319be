"""Messages that stay, and the keyboard, in a real browser: the result of a contract action stays
through the page's own reload (when its job ends) until the operator closes it; a row action's
message links to the row where it went; a refused form puts the focus on its error summary;
the first Tab reaches the skip link."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import Operation
from tests.e2e.pages import reload
from tests.e2e.test_integradores import WORKER_TIMEOUT, row, synced_contract
from tests.e2e.test_login_and_menus import log_in
from tests.e2e.test_painel_cliente import flash, press_and_confirm
from tests.factories import CPFS
from tests.processes import wait_until
from tests.provisioning import platform_at

ACTIVE = 'document.activeElement && document.activeElement.matches("{}")'


def all_done(app) -> bool:
    with app.app_context():
        return all(op.status == "done" for op in db.session.scalars(db.select(Operation)))


class Loads:
    """Counts the page's loads (a form's answer, the page's own reload)."""

    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0
        page.on("load", self._loaded)

    def _loaded(self, _page) -> None:
        self.count += 1

    def wait_for(self, count: int) -> None:
        while self.count < count:  # (an event already seen was counted while Playwright ran)
            self.page.wait_for_event("load", timeout=WORKER_TIMEOUT)


def test_a_contract_actions_message_stays_through_the_pages_own_reload_until_closed(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = synced_contract(app, ittv, document=CPFS[0], name="Maria da Silva")
    wait_until(lambda: all_done(app), timeout=WORKER_TIMEOUT / 1000, message="the sync to end")
    log_in(page, live_server, make_user("operador").username)
    page.goto(f"{live_server}/financeiro/painel-do-cliente/contratos/{contract_id}")
    expect(page.get_by_test_id("remote-status")).to_have_text("Ativo")

    for button, accept, message in (
        ("Suspender contrato", "Suspender", "Contrato suspenso."),
        ("Cancelar contrato", "Cancelar contrato", "OK! Contrato cancelado com sucesso."),
    ):
        loads = Loads(page)
        press_and_confirm(page, button, accept)
        expect(flash(page, message)).to_be_visible()
        # The platform confirms; the page then reloads itself (a second load) and shows it...
        loads.wait_for(2)
        expect(page.get_by_test_id("remote-status")).not_to_have_text("Ativo")
        expect(page.locator("[data-poll-url]")).to_have_count(0)
        # ...with the message still there, as the server drew it (a status, with its close button).
        shown = flash(page, message)
        expect(shown).to_be_visible()
        expect(shown).to_have_attribute("role", "status")
        shown.get_by_role("button", name="Fechar mensagem").click()
        expect(flash(page, message)).to_have_count(0)
        reload(page)  # closed is closed: it does not come back
        expect(page.locator("#messages [data-message]")).to_have_count(0)
    expect(page.get_by_test_id("remote-status")).to_have_text("Cancelado")


def test_a_row_actions_message_links_to_the_row_where_it_went(app, page: Page, live_server, make_user, sandbox_for):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = synced_contract(app, ittv, document=CPFS[0], name="Maria da Silva")
    other = synced_contract(app, ittv, document=CPFS[1], name="João Souza", email="joao@example.com.br")
    log_in(page, live_server, make_user("operador").username)
    page.goto(f"{live_server}/integradores/tv/clientes?aba=ativos")
    expect(row(page, other)).to_be_visible()
    press_and_confirm(page, "Bloqueio total dos pontos deste contrato", "Bloqueio total", within=row(page, contract_id))
    message = flash(page, f"Contrato {contract_id}: Bloqueio total solicitado.")
    expect(message).to_contain_text("O assinante está agora em Assinantes bloqueados.")
    expect(row(page, contract_id)).to_have_count(0)  # it left this tab

    message.get_by_role("link", name="Assinantes bloqueados").click()
    expect(page).to_have_url(re.compile(rf"aba=bloqueados&plataforma={ittv.platform_id}&q={contract_id}$"))
    expect(row(page, contract_id)).to_be_visible()
    expect(row(page, contract_id)).to_contain_text("Maria da Silva")
    expect(page.locator('tr[data-testid="subscriber-row"]')).to_have_count(1)


def test_a_refused_form_puts_the_focus_on_its_error_summary(page: Page, live_server, make_user):
    log_in(page, live_server, make_user("leitura").username)
    page.goto(f"{live_server}/conta/senha")
    page.get_by_role("button", name="Alterar senha").click()
    page.wait_for_load_state("load")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Corrija 3 campos")
    expect(summary).to_have_attribute("role", "alert")
    page.wait_for_function(ACTIVE.format("[data-error-summary]"))
    # Each link takes the focus to its field.
    summary.get_by_role("link", name="Nova senha", exact=True).click()
    page.wait_for_function(ACTIVE.format("#new_password"))
    expect(page.locator("#new_password")).to_have_attribute("aria-invalid", "true")


def test_the_first_tab_reaches_the_skip_link_which_leads_to_the_content(page: Page, live_server, make_user):
    log_in(page, live_server, make_user("leitura").username)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Pular para o conteúdo")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # hidden until it has the focus
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
