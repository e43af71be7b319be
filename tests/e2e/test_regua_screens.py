"""*Simular régua* and *Executar agora* in a real browser, with a real worker and the ITTV sandbox:
the admin opens it from Financeiro, sees who would be blocked, confirms *Executar agora* in the
shared dialog, and the page follows today's runs by itself until they end (no reload by hand),
then links to the run's operations; all under the strict CSP, without a script error."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.test_integradores import WORKER_TIMEOUT, platform_record
from tests.e2e.test_login_and_menus import log_in, open_menu
from tests.e2e.test_painel_cliente import flash, press_and_confirm
from tests.factories import CPFS
from tests.provisioning import platform_at
from tests.test_regua import tv_rule
from tests.test_regua_screens import overdue_today


def test_an_admin_simulates_then_runs_todays_regua_and_watches_it_end(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    ittv = platform_at(app, sandbox_for("ittv"))
    tv_rule(app, 15)
    contract_id = overdue_today(app, ittv.plan_id, 16, document=CPFS[0])
    platform_record(ittv.sandbox, "cpf", CPFS[0], status="ACTIVE")  # the worker synced it
    admin = make_user("admin", name="Ana Admin")
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    log_in(page, live_server, admin.username)
    open_menu(page, "Financeiro").get_by_role("link", name="Simular régua").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Simular régua")
    line = page.locator(f'tr[data-testid="simulated-row"][data-contract="{contract_id}"]')
    expect(line).to_contain_text("A bloquear")
    expect(line).to_contain_text("16")
    expect(page.get_by_test_id("regua-progress")).to_contain_text("A régua ainda não rodou hoje.")

    press_and_confirm(page, "Executar agora", "Executar agora")
    expect(flash(page, "Régua de hoje solicitada: 1 execução na fila.")).to_be_visible()
    # The page follows the run and reloads itself once it has ended.
    expect(page.get_by_test_id("regua-run").first).to_contain_text("Concluída", timeout=WORKER_TIMEOUT)
    expect(page.get_by_test_id("regua-progress-text")).to_contain_text("1 de 1")
    expect(page.get_by_test_id("regua-run").first).to_contain_text("1 bloqueado")
    expect(line).to_contain_text("Já bloqueado")
    platform_record(ittv.sandbox, "cpf", CPFS[0], status="INACTIVE")

    page.screenshot(path="/tmp/x/simular.png", full_page=True)
    page.get_by_role("link", name=re.compile(r"^Operações da execução")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Operações")
    expect(page.get_by_test_id("run-filter")).to_contain_text("Pedidos da execução")
    expect(page.get_by_test_id("operations-list").get_by_test_id("operation-row")).to_have_count(1)
    assert problems == []
