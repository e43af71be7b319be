"""J4 — People and permissions, in a real browser: log in, see the menus your role allows, log out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

ON_LOGIN = re.compile(r"/login(\?.*)?$")


def log_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/")
    expect(page).to_have_url(ON_LOGIN)
    page.get_by_label("Usuário").fill(username)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    # The URL changes when the next page starts; wait until its scripts (Bootstrap) have run.
    page.wait_for_load_state("load")


def navbar(page: Page):
    return page.get_by_role("navigation", name="Menu principal")


def open_menu(page: Page, name: str):
    """Click a navbar dropdown (Bootstrap's JS must be running for it to open) and return its menu."""
    page.wait_for_load_state("load")  # Bootstrap's handlers are attached by then
    toggle = navbar(page).get_by_role("button", name=name, exact=True)
    toggle.click()
    menu = toggle.locator("xpath=following-sibling::ul")
    expect(menu).to_be_visible()
    return menu


def test_admin_logs_in_sees_the_menus_opens_users_and_logs_out(page: Page, live_server, make_user):
    admin = make_user("admin", name="Ana Admin")

    log_in(page, live_server, admin.username)

    expect(page).to_have_url(live_server + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Olá, Ana Admin")
    for menu in ("Integradores", "Financeiro", "Configurações"):
        expect(navbar(page).get_by_role("button", name=menu, exact=True)).to_be_visible()
    users_item = navbar(page).get_by_role("link", name="Usuários")
    expect(users_item).to_be_hidden()  # closed until clicked

    menu = open_menu(page, "Configurações")
    expect(menu.get_by_role("link", name="Visão geral")).to_be_visible()
    expect(users_item).to_be_visible()
    expect(menu.get_by_role("link", name="Fila de tarefas (RQ)")).to_be_visible()

    users_item.click()
    expect(page).to_have_url(live_server + "/configuracoes/usuarios")
    expect(page.get_by_role("heading", level=1)).to_have_text("Usuários")
    expect(page.get_by_role("table").get_by_role("cell", name=admin.username, exact=True)).to_be_visible()

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sair").click()
    expect(page).to_have_url(ON_LOGIN)
    expect(page.get_by_role("status")).to_contain_text("Você saiu do painel.")
    expect(navbar(page)).to_have_count(0)

    page.goto(live_server + "/")
    expect(page).to_have_url(ON_LOGIN)
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()


def test_leitura_does_not_see_admin_menus_and_is_refused_the_users_page(page: Page, live_server, make_user):
    reader = make_user("leitura")

    log_in(page, live_server, reader.username)
    expect(page).to_have_url(live_server + "/")

    menu = open_menu(page, "Configurações")
    expect(menu.get_by_role("link", name="Visão geral")).to_be_visible()
    expect(navbar(page).get_by_role("link", name="Usuários")).to_have_count(0)
    expect(navbar(page).get_by_role("link", name="Fila de tarefas (RQ)")).to_have_count(0)

    response = page.goto(live_server + "/configuracoes/usuarios")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Acesso negado")


def test_wrong_password_is_refused_on_the_login_page(page: Page, live_server, make_user):
    user = make_user("operador")

    log_in(page, live_server, user.username, password="senha-errada-000")

    expect(page.get_by_role("alert")).to_have_text("Usuário ou senha inválidos.")
    expect(page).to_have_url(ON_LOGIN)
    expect(navbar(page)).to_have_count(0)


def test_home_page_has_no_console_errors_or_csp_violations(page: Page, live_server, make_user):
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    admin = make_user("admin")

    log_in(page, live_server, admin.username)
    expect(page).to_have_url(live_server + "/")
    page.wait_for_load_state("networkidle")
    open_menu(page, "Configurações")  # Bootstrap's JS ran despite the strict CSP

    assert problems == []
