"""Watch Brasil, the third platform, in a real browser with a real worker and its sandbox: an
admin registers it with its client id and client secret, tests the connection, syncs the products
and makes an SVA plan of two packages; Sincronizar makes two active tickets with our reference;
Bloquear / Desbloquear in the Gerenciador de licenças turn every ticket off and on — with the token
expired in between (one new token); Cancelar contrato leaves no ticket."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import Plan, Subscription
from tests.e2e.pages import reload
from tests.e2e.test_integradores import WORKER_TIMEOUT, open_tab, row
from tests.e2e.test_login_and_menus import log_in, open_menu
from tests.e2e.test_painel_cliente import flash, press_and_confirm
from tests.factories import CPFS, make_client, make_contract
from tests.processes import wait_until

EMAIL = "joana.watch@example.com.br"


def tickets_become(sandbox, reference: str, expected: list[bool] | None) -> list[dict]:
    """Wait until the tickets of our reference are ``expected`` (their Ativo, by package); None:
    no ticket left."""

    def held():
        tickets = sorted(
            (t for t in sandbox.records() if t["IDIntegracaoAssinante"] == reference), key=lambda t: str(t["IDPacote"])
        )
        if expected is None:
            return tickets == [] or None
        return tickets if [t["Ativo"] for t in tickets] == expected else None

    found = wait_until(held, timeout=WORKER_TIMEOUT / 1000, message=f"watch tickets {expected}")
    return found if isinstance(found, list) else []


def token_requests(sandbox) -> int:
    return sum(1 for r in sandbox.requests_seen() if r["path"] == "/oauth/token")


def test_watch_from_registration_to_cancellation(app, page: Page, live_server, make_user, sandbox_for, worker):
    watch = sandbox_for("watch")
    client_id, _, client_secret = watch.token.partition(":")
    admin = make_user("admin", name="Ana Admin")
    log_in(page, live_server, admin.username)

    # Configurações: the form asks Watch's own credentials (no token field).
    open_menu(page, "Configurações").get_by_role("link", name="Operadoras e fornecedores").click()
    page.get_by_role("link", name="Cadastrar fornecedor Watch Brasil").click()
    expect(page.get_by_label("Token")).to_be_hidden()
    page.get_by_label("Código", exact=True).fill("WATCH")
    page.get_by_label("Nome", exact=True).fill("Watch Brasil")
    page.get_by_label("Servidor (URL)").fill(watch.url)
    page.get_by_label("Client ID").fill(client_id)
    page.get_by_label("Client secret").fill(client_secret)
    page.get_by_role("button", name="Salvar e testar conexão").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Watch Brasil")
    expect(page.locator("[data-task-kind=test_connection]")).to_contain_text("Conexão OK", timeout=WORKER_TIMEOUT)
    assert client_secret not in page.content()

    page.get_by_role("button", name="Sincronizar produtos").click()
    expect(page.locator("[data-task-kind=sync_products]")).to_contain_text("3", timeout=WORKER_TIMEOUT)
    reload(page)  # (the page also reloads itself once the sync ends)
    expect(page.get_by_role("cell", name="Watch Kids")).to_be_visible()

    # An SVA plan of two packages.
    open_menu(page, "Configurações").get_by_role("link", name="Planos de acesso").click()
    page.get_by_role("link", name="Adicionar plano").click()
    page.get_by_label("Nome do plano").fill("Watch Família")
    page.get_by_label("SVA", exact=True).check()
    page.get_by_role("button", name="Avançar").click()
    page.get_by_label("Valor mensal (R$)").fill("14,90")
    page.get_by_label("SVA — Serviço de Valor Adicionado").fill("100")
    page.get_by_role("button", name="Avançar").click()
    page.get_by_label("101 Watch Básico").check()
    page.get_by_label("102 Watch Kids").check()
    page.get_by_role("button", name="Avançar").click()
    page.get_by_role("button", name="Efetivar").click()
    expect(page.get_by_role("status").filter(has_text="Plano Watch Família cadastrado.")).to_be_visible()

    # A client and its contract; Sincronizar → two active tickets with our reference.
    with app.app_context():
        plan_id = db.session.scalar(db.select(Plan.id).where(Plan.name == "Watch Família"))
    client = make_client(app, document=CPFS[1], name="Joana Watch", email=EMAIL)
    contract_id = make_contract(app, client, plan_id)
    page.goto(f"{live_server}/financeiro/painel-do-cliente/contratos/{contract_id}")
    press_and_confirm(page, "Sincronizar", "Sincronizar")
    expect(flash(page, "Sincronização solicitada.")).to_be_visible()
    expect(page.get_by_test_id("remote-status")).to_have_text("Ativo", timeout=WORKER_TIMEOUT)
    with app.app_context():
        reference = db.session.scalar(db.select(Subscription.external_ref))
    tickets = tickets_become(watch, reference, [True, True])
    assert [(str(t["IDPacote"]), t["Email"]) for t in tickets] == [("101", EMAIL), ("102", EMAIL)]

    # Gerenciador de licenças: Bloquear → every ticket inactive.
    open_menu(page, "Integradores").get_by_role("link", name="Gerenciador de licenças → Assinantes").click()
    subscriber = row(page, contract_id)
    expect(subscriber.get_by_test_id("remote-status")).to_have_text("Ativo", timeout=WORKER_TIMEOUT)
    press_and_confirm(page, "Bloquear assinante", "Bloquear assinante", within=subscriber)
    expect(flash(page, f"Contrato {contract_id}: Bloqueio solicitado.")).to_be_visible()
    tickets_become(watch, reference, [False, False])
    open_tab(page, "Assinantes bloqueados")
    expect(row(page, contract_id).get_by_test_id("remote-status")).to_have_text(
        "Bloqueado",
        timeout=WORKER_TIMEOUT,  # no partial block at Watch
    )

    # The token expires in between: Desbloquear still succeeds, with one new token.
    tokens_before = token_requests(watch)
    watch.admin("POST", "/tokens/expire")
    press_and_confirm(page, "Desbloquear assinante", "Desbloquear assinante", within=row(page, contract_id))
    expect(flash(page, f"Contrato {contract_id}: Desbloqueio solicitado.")).to_be_visible()
    tickets_become(watch, reference, [True, True])
    assert token_requests(watch) == tokens_before + 1
    open_tab(page, "Assinantes ativos")
    expect(row(page, contract_id).get_by_test_id("remote-status")).to_have_text("Ativo", timeout=WORKER_TIMEOUT)

    # Cancelar contrato → no tickets left.
    page.goto(f"{live_server}/financeiro/painel-do-cliente/contratos/{contract_id}")
    press_and_confirm(page, "Cancelar contrato", "Cancelar contrato")
    expect(flash(page, "OK! Contrato cancelado com sucesso.")).to_be_visible()
    tickets_become(watch, reference, None)
