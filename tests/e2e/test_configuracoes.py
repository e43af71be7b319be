"""J1 and J2, set-up steps, in a real browser with a real worker: an admin registers ITTV and
Skeelo against their sandboxes from nothing, tests the connections, syncs the products and
creates one plan of each type."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.test_login_and_menus import log_in, open_menu


def fill_platform(page: Page, code: str, name: str, url: str, token: str) -> None:
    page.get_by_label("Código", exact=True).fill(code)
    page.get_by_label("Nome", exact=True).fill(name)
    page.get_by_label("Servidor (URL)").fill(url)
    page.get_by_label("Token").fill(token)


def test_admin_sets_up_ittv_and_skeelo_and_a_plan_of_each_type(page: Page, live_server, make_user, sandbox_for, worker):
    ittv, skeelo = sandbox_for("ittv"), sandbox_for("skeelo")
    admin = make_user("admin", name="Ana Admin")
    log_in(page, live_server, admin.username)

    # J1.1 — Configurações → Operadoras e fornecedores → ITTV, first with a wrong token.
    open_menu(page, "Configurações").get_by_role("link", name="Operadoras e fornecedores").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Operadoras e fornecedores")
    page.get_by_role("link", name="Cadastrar operadora ITTV").click()
    fill_platform(page, "ITTV", "ITTV PlayHub", ittv.url, "token-errado")
    page.get_by_role("button", name="Salvar", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ITTV PlayHub")
    expect(page.get_by_test_id("token-status")).to_contain_text(re.compile(r"definido em \d{2}/\d{2}/\d{4}"))
    page.get_by_role("button", name="Testar conexão").click()
    # The result arrives without reloading: the page follows the job.
    expect(page.locator("[data-task-kind=test_connection]")).to_contain_text("Falhou", timeout=30_000)
    expect(page.locator("[data-task-kind=test_connection]")).to_contain_text("recusou o token")

    page.get_by_role("link", name="Editar", exact=True).click()
    page.get_by_label("Token").fill(ittv.token)
    page.get_by_role("button", name="Salvar e testar conexão").click()
    expect(page.locator("[data-task-kind=test_connection]")).to_contain_text("Conexão OK", timeout=30_000)

    # J1.2 — Sincronizar produtos, then mark the base package.
    page.get_by_role("button", name="Sincronizar produtos").click()
    expect(page.locator("[data-task-kind=sync_products]")).to_contain_text("4 produtos adicionados", timeout=30_000)
    basico = page.locator("tr[data-product=PLAYHUB-BASICO]")
    expect(basico).to_be_visible()
    basico.get_by_role("link", name="Editar").click()
    page.get_by_label("Pacote base").check()
    page.get_by_role("button", name="Salvar").click()
    expect(page.locator("tr[data-product=PLAYHUB-BASICO]")).to_contain_text("Base")

    # J2.1 — Integradores → Gerenciador de licenças → Fornecedores: Skeelo.
    open_menu(page, "Integradores").get_by_role("link", name="Fornecedores e produtos").click()
    page.get_by_role("link", name="Cadastrar fornecedor Skeelo").click()
    fill_platform(page, "SKEELO", "Skeelo", skeelo.url, skeelo.token)
    page.get_by_role("button", name="Salvar e testar conexão").click()
    expect(page.locator("[data-task-kind=test_connection]")).to_contain_text("Conexão OK", timeout=30_000)
    page.get_by_role("button", name="Sincronizar produtos").click()
    expect(page.locator("tr[data-product=SKEELO-EBOOKS]")).to_be_visible(timeout=30_000)

    # J1.3 — Adicionar plano, TV/OTT, 12 months, R$ 39,90; a composition that does not add up first.
    open_menu(page, "Configurações").get_by_role("link", name="Planos de acesso").click()
    page.get_by_role("link", name="Adicionar plano").click()
    page.get_by_label("Nome do plano").fill("PlayHub 12 meses")
    page.get_by_label("TV/OTT").check()
    page.get_by_role("button", name="Avançar").click()
    page.get_by_label("Meses de contrato").fill("12")
    page.get_by_label("Valor mensal (R$)").fill("39,90")
    page.get_by_label("SCM — Serviço de Comunicação Multimídia").fill("60")
    page.get_by_label("SVA — Serviço de Valor Adicionado").fill("39")
    page.get_by_role("button", name="Avançar").click()
    expect(page.get_by_test_id("composition-error")).to_contain_text("As porcentagens somam 99%")
    expect(page.get_by_label("SVA — Serviço de Valor Adicionado")).to_have_value("39")
    page.get_by_label("SVA — Serviço de Valor Adicionado").fill("40")
    page.get_by_role("button", name="Avançar").click()
    expect(page.get_by_label("Operadora")).to_have_value(re.compile(r"\d+"))  # the only operadora, chosen
    page.get_by_label("PLAYHUB-BASICO PlayHub Básico").check()
    page.get_by_label("PLAYHUB-PREMIUM PlayHub Premium").check()
    page.get_by_role("button", name="Avançar").click()
    expect(page.get_by_role("heading", name="4. Revisão")).to_be_visible()
    expect(page.get_by_test_id("monthly-value")).to_have_text("R$ 39,90")
    page.get_by_role("button", name="Efetivar").click()
    expect(page.get_by_role("status").filter(has_text="Plano PlayHub 12 meses cadastrado.")).to_be_visible()

    # J2.2 — Adicionar plano, SVA, with the supplier and its packages.
    page.get_by_role("link", name="Planos de acesso").click()
    page.get_by_role("link", name="Adicionar plano").click()
    page.get_by_label("Nome do plano").fill("Skeelo Leitura")
    page.get_by_label("SVA", exact=True).check()
    page.get_by_role("button", name="Avançar").click()
    page.get_by_label("Valor mensal (R$)").fill("9,90")
    page.get_by_label("SVA — Serviço de Valor Adicionado").fill("100")
    page.get_by_role("button", name="Avançar").click()
    page.get_by_label("SKEELO-EBOOKS Skeelo Ebooks").check()
    page.get_by_role("button", name="Avançar").click()
    page.get_by_role("button", name="Efetivar").click()
    expect(page.get_by_role("status").filter(has_text="Plano Skeelo Leitura cadastrado.")).to_be_visible()

    page.get_by_role("link", name="Planos de acesso").click()
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text="PlayHub 12 meses")).to_contain_text("R$ 39,90")
    expect(rows.filter(has_text="Skeelo Leitura")).to_contain_text("SVA")
    # The tokens never reach a page.
    for url in ("/configuracoes/plataformas", "/configuracoes/auditoria"):
        page.goto(live_server + url)
        assert ittv.token not in page.content() and skeelo.token not in page.content()
