"""Every main page of the panel, on the demo data, so that the page audit (tests/e2e/audit.py:
axe-core at 1366 and 390 px, the phone width, the words) covers them even where no walk goes.
The audit itself runs after each test, from the ``page`` fixture."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from panel.extensions import db
from panel.models import BillingRule, Client, ContractEvent, Plan, Platform, User
from tests.e2e import audit
from tests.e2e.test_login_and_menus import log_in


def first_id(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(model.id).order_by(model.id).limit(1))


def longest_history(app) -> int:
    """The demo contract with the most history lines: the page (and its 390 px screenshot, the
    first of its pattern) shows a history, not a lone creation line."""
    with app.app_context():
        return db.session.scalar(
            select(ContractEvent.contract_id)
            .group_by(ContractEvent.contract_id)
            .order_by(func.count().desc(), ContractEvent.contract_id)
            .limit(1)
        )


def test_the_login_page_is_audited(page: Page, live_server):
    page.goto(live_server + "/login")
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()


def test_every_main_page_is_audited_on_the_demo_data(page: Page, live_server, make_user, runner, app):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    admin = make_user("admin")
    log_in(page, live_server, admin.username)
    expect(page).to_have_url(live_server + "/")
    ids = {model.__name__: first_id(app, model) for model in (Platform, Plan, BillingRule, Client, User)}
    ids["Contract"] = longest_history(app)
    urls = [
        "/",
        "/conta/senha",
        "/integradores/",
        "/integradores/tv/clientes?aba=ativos",
        "/integradores/tv/clientes?aba=bloqueados",
        "/integradores/tv/clientes?aba=cancelados",
        "/integradores/licencas/assinantes?aba=ativos",
        "/integradores/licencas/assinantes?aba=bloqueados",
        "/integradores/licencas/assinantes?aba=cancelados",
        "/integradores/licencas/licencas",
        "/integradores/operacoes",
        "/integradores/conciliacao",
        f"/integradores/conciliacao/{ids['Platform']}",
        "/financeiro/painel-do-cliente/",
        "/financeiro/painel-do-cliente/clientes/novo",
        f"/financeiro/painel-do-cliente/clientes/{ids['Client']}",
        f"/financeiro/painel-do-cliente/clientes/{ids['Client']}/editar",
        f"/financeiro/painel-do-cliente/clientes/{ids['Client']}/contratos/novo",
        f"/financeiro/painel-do-cliente/contratos/{ids['Contract']}",
        "/financeiro/painel-do-cliente/titulos?aba=abertos",
        "/financeiro/painel-do-cliente/titulos?aba=vencidos",
        "/financeiro/painel-do-cliente/titulos?aba=pagos",
        "/configuracoes/",
        "/configuracoes/plataformas",
        "/configuracoes/plataformas/nova",
        f"/configuracoes/plataformas/{ids['Platform']}",
        f"/configuracoes/plataformas/{ids['Platform']}/editar",
        f"/configuracoes/plataformas/{ids['Platform']}/produtos/novo",
        "/configuracoes/planos",
        "/configuracoes/planos/novo",
        f"/configuracoes/planos/{ids['Plan']}",
        f"/configuracoes/planos/{ids['Plan']}/editar",
        "/configuracoes/reguas",
        "/configuracoes/reguas/nova",
        f"/configuracoes/reguas/{ids['BillingRule']}/editar",
        "/configuracoes/reguas/simular",
        "/configuracoes/usuarios",
        "/configuracoes/usuarios/novo",
        f"/configuracoes/usuarios/{ids['User']}",
        "/configuracoes/auditoria",
        "/rq/",
        "/rq/0/view/workers",
        "/rq/0/view/jobs",
    ]
    for url in urls:
        response = page.goto(live_server + url)
        assert response is not None and response.status == 200, url
        expect(page.locator("nav").first).to_be_visible()


@pytest.mark.parametrize(
    ("url", "pattern"),
    [
        ("http://x/financeiro/painel-do-cliente/contratos/12", "/financeiro/painel-do-cliente/contratos/N"),
        (
            "http://x/integradores/tv/clientes?q=ana&aba=ativos&plataforma=3",
            "/integradores/tv/clientes?aba=ativos&plataforma=&q=",
        ),
        ("http://x/integradores/licencas/licencas/2/2026-05", "/integradores/licencas/licencas/N/2026-05"),
        ("http://x/", "/"),
    ],
)
def test_pages_are_audited_once_per_pattern(url, pattern):
    assert audit.pattern_of(url) == pattern
