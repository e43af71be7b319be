"""Financeiro → Painel do Cliente, in a real browser: an operator registers a person, makes a
contract, syncs it (a real `flask worker` creates the customer at the ITTV sandbox, and the page
follows it without a reload), suspends and reactivates it, bills and settles a título, cancels it
and reads the history; a leitura user only reads; a company takes Skeelo contracts."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from panel.domain.common import local_today
from tests.e2e.pages import reload
from tests.e2e.test_login_and_menus import log_in, open_menu
from tests.factories import CPFS, ittv_plan, make_client, make_contract, skeelo_plan
from tests.processes import wait_until
from tests.provisioning import platform_at

CONTRACT_URL = re.compile(r"/financeiro/painel-do-cliente/contratos/(\d+)$")
CONTRACT_BUTTONS = (
    "Sincronizar",
    "Suspender contrato",
    "Cancelar suspensão",
    "Cancelar contrato",
    "Gerar título do mês",
)


def flash(page: Page, text: str):
    """The flashed message with this text (a status or an alert in the messages region)."""
    return page.locator("#messages [data-message]").filter(has_text=text)


def open_painel_do_cliente(page: Page) -> None:
    open_menu(page, "Financeiro").get_by_role("link", name="Painel do Cliente").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Painel do Cliente")


def press_and_confirm(page: Page, button: str, accept: str, *, within=None) -> None:
    """Click a button (of the page, or of ``within``: a list row), then accept in the
    "Confirmar ação" modal."""
    page.wait_for_load_state("load")  # app.js has hooked the confirmation by then
    (within or page).get_by_role("button", name=button, exact=True).click()
    modal = page.locator("#confirm-modal")
    expect(modal.get_by_role("heading", name="Confirmar ação")).to_be_visible()
    modal.get_by_role("button", name=accept, exact=True).click()
    page.wait_for_load_state("load")


def new_contract(page: Page, plan_label: str, start: str, due_day: str) -> int:
    """From the client's page: Novo contrato → the contract's page; returns its number."""
    page.get_by_role("link", name="Novo contrato").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Novo contrato para")
    page.get_by_label("Plano").select_option(label=plan_label)
    page.get_by_label("Início do contrato").fill(start)
    page.get_by_label("Dia de vencimento").fill(due_day)
    page.get_by_role("button", name="Criar contrato").click()
    expect(page).to_have_url(CONTRACT_URL)
    return int(CONTRACT_URL.search(page.url).group(1))


def status_badge(page: Page):
    return page.get_by_test_id("contract-status")


def customer_at(sandbox, cpf: str, **expected) -> dict:
    """The platform's own record of the customer, once it says what is expected."""

    def found():
        return next(
            (
                r
                for r in sandbox.records()
                if r["cpf"] == cpf and all(r.get(key) == value for key, value in expected.items())
            ),
            None,
        )

    return wait_until(found, timeout=30, message=f"ITTV to show {expected}")


def test_operator_registers_a_person_and_walks_a_contract_from_creation_to_cancellation(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    ittv = platform_at(app, sandbox_for("ittv"), plan_name="PlayHub TV")
    skeelo_plan(app, "Skeelo Leitura")  # a second choice in the plan list
    make_client(app, document=CPFS[1], name="João Souza", email="joao@example.net")  # someone not to find
    operator = make_user("operador", name="Olga Operadora")
    today = local_today()
    month, today_br = today.strftime("%m/%Y"), today.strftime("%d/%m/%Y")

    # 1. Log in, Financeiro → Painel do Cliente.
    log_in(page, live_server, operator.username)
    open_painel_do_cliente(page)
    expect(page.get_by_role("heading", name="Últimos 1000 novos cadastros ativos")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("João Souza")

    # 2. Nova pessoa física: a CPF with a wrong check digit is refused next to its field…
    page.get_by_role("link", name="Nova pessoa física").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nova pessoa física")
    expect(page.get_by_label("Pessoa física")).to_be_checked()
    # The name and document labels follow the kind of register chosen.
    page.get_by_label("Empresa").check()
    expect(page.get_by_label("CNPJ", exact=True)).to_be_visible()
    page.get_by_label("Pessoa física").check()
    page.get_by_label("Nome", exact=True).fill("Maria da Silva")
    page.get_by_label("CPF", exact=True).fill("529.982.247-24")
    page.get_by_label("E-mail").fill("maria@example.com.br")
    page.get_by_label("Telefone").fill("(11) 98765-4321")
    page.get_by_label("CEP").fill("01310-100")
    page.get_by_label("Endereço").fill("Av. Paulista")
    page.get_by_label("Número").fill("1000")
    page.get_by_label("Cidade").fill("São Paulo")
    page.get_by_label("UF").select_option("SP")
    page.get_by_role("button", name="Salvar").click()
    document_field = page.get_by_label("CPF", exact=True)
    expect(document_field).to_have_class(re.compile(r"\bis-invalid\b"))
    document_error = page.locator("div.mb-3", has=document_field).locator(".invalid-feedback")
    expect(document_error).to_have_text("CPF inválido: confira os dígitos.")
    expect(document_error).to_be_visible()
    expect(page.get_by_label("Nome", exact=True)).to_have_value("Maria da Silva")  # what was typed is kept
    expect(page.get_by_label("UF")).to_have_value("SP")

    # …fixed, it is saved and shown masked.
    document_field.fill("529.982.247-25")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maria da Silva")
    expect(flash(page, "Cadastro de Maria da Silva salvo.")).to_be_visible()
    expect(page.get_by_test_id("client-document")).to_have_text("529.982.247-25")
    expect(page.get_by_text("Nenhum contrato ainda.")).to_be_visible()

    # 3. Novo contrato with the ITTV plan: active, not synced yet.
    first = new_contract(page, "PlayHub TV — TV/OTT, ITTV demo, R$ 39,90/mês", today.isoformat(), "31")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contrato {first}")
    expect(flash(page, f"Contrato {first} criado.")).to_be_visible()
    expect(status_badge(page)).to_have_text("Ativo")
    expect(page.get_by_text("Ainda não sincronizado")).to_be_visible()

    # 4. Sincronizar: the worker creates the customer at ITTV with the seed's login, and the page
    # shows the confirmation without a reload.
    press_and_confirm(page, "Sincronizar", "Sincronizar")
    expect(flash(page, "Sincronização solicitada.")).to_be_visible()
    expect(page.get_by_test_id("desired-status")).to_have_text("Ativo")
    expect(page.get_by_test_id("remote-status")).to_have_text("Ativo", timeout=20000)
    expect(page.get_by_test_id("operation-state")).to_contain_text("Concluída")
    customer = customer_at(ittv.sandbox, "52998224725", status="ACTIVE")
    assert (customer["username"], customer["password"]) == ("maria@example.com.br", "52998224725")
    assert len(ittv.sandbox.records()) == 1

    # 5. A second ITTV contract for the same client cannot be synced.
    page.get_by_role("main").get_by_role("link", name="Maria da Silva").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maria da Silva")
    second = new_contract(page, "PlayHub TV — TV/OTT, ITTV demo, R$ 39,90/mês", today.isoformat(), "31")
    assert second != first
    press_and_confirm(page, "Sincronizar", "Sincronizar")
    refusal = flash(page, "somente é possível sincronizar 1 único contrato por assinante")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text(f"o contrato {first} deste cliente já está sincronizado")
    expect(page.get_by_text("Ainda não sincronizado")).to_be_visible()

    # 6. Back to the first contract: suspend, reactivate, bill and settle the month.
    page.get_by_role("main").get_by_role("link", name="Maria da Silva").first.click()
    page.get_by_role("link", name=f"Contrato {first}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contrato {first}")

    press_and_confirm(page, "Suspender contrato", "Suspender")
    expect(flash(page, "Contrato suspenso.")).to_be_visible()
    expect(status_badge(page)).to_have_text("Suspenso")
    expect(page.get_by_role("status").filter(has_text="Contrato suspenso desde")).to_be_visible()
    expect(page.get_by_test_id("desired-status")).to_have_text("Bloqueio total")
    expect(page.get_by_test_id("remote-status")).to_have_text("Bloqueio total", timeout=20000)
    customer_at(ittv.sandbox, "52998224725", status="INACTIVE")
    expect(page.get_by_role("button", name="Gerar título do mês")).to_have_count(0)  # a suspended one is not billed

    press_and_confirm(page, "Cancelar suspensão", "Cancelar suspensão")
    expect(flash(page, "Suspensão cancelada: contrato ativo.")).to_contain_text(
        "Para liberar o acesso na ITTV demo, faça o Desbloqueio em Integradores."
    )
    expect(status_badge(page)).to_have_text("Ativo")
    expect(page.get_by_test_id("desired-status")).to_have_text("Bloqueio total")  # until the Desbloqueio
    assert customer_at(ittv.sandbox, "52998224725")["status"] == "INACTIVE"

    page.get_by_role("button", name="Gerar título do mês").click()
    expect(flash(page, f"Título {month} gerado.")).to_be_visible()
    invoice_row = page.get_by_role("row").filter(has=page.get_by_test_id("invoice-status"))
    expect(invoice_row).to_have_count(1)
    expect(invoice_row).to_contain_text(month)
    expect(invoice_row).to_contain_text("R$ 39,90")
    expect(invoice_row.get_by_test_id("invoice-status")).to_have_text("Em aberto")  # due on the month's last day

    invoice_row.get_by_role("link", name="Baixar título").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Baixar título {month} — Contrato {first}")
    page.get_by_label("Data do pagamento").fill(today.isoformat())
    page.get_by_label("Valor pago (R$)").fill("39,90")
    page.get_by_role("button", name="Baixar título").click()
    expect(flash(page, f"Título {month} baixado.")).to_be_visible()
    expect(invoice_row.get_by_test_id("invoice-status")).to_have_text(f"Pago em {today_br} (R$ 39,90)")
    expect(invoice_row.get_by_role("link", name="Baixar título")).to_have_count(0)

    # 7. Cancelar contrato: final, no button left.
    press_and_confirm(page, "Cancelar contrato", "Cancelar contrato")
    expect(flash(page, "OK! Contrato cancelado com sucesso.")).to_be_visible()
    expect(status_badge(page)).to_have_text("Cancelado")
    expect(page.get_by_role("status").filter(has_text="não aceita mais ações")).to_be_visible()
    for button in CONTRACT_BUTTONS:
        expect(page.get_by_role("button", name=button, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Baixar título")).to_have_count(0)
    expect(page.get_by_test_id("remote-status")).to_have_text("Cancelado", timeout=20000)
    assert customer_at(ittv.sandbox, "52998224725")["status"] == "INACTIVE"  # ITTV's word for cancelled

    # 8. The history, newest first: Olga's requests and the platform's answers (Sistema).
    reload(page)
    history = page.locator("#historico + .table-responsive tbody tr")
    expected = [
        ("Sistema", "Cancelamento: resposta da ITTV demo.", "ITTV demo já estava assim: Cancelado — Inativo"),
        ("Olga Operadora", "Contrato cancelado; acesso cancelado na ITTV demo.", None),
        ("Olga Operadora", f"Título {month} baixado: R$ 39,90 pago em {today_br}.", None),
        ("Olga Operadora", f"Título {month} gerado: R$ 39,90, vencimento", None),
        ("Olga Operadora", "Suspensão cancelada: contrato ativo. O acesso na ITTV demo segue bloqueado", None),
        ("Sistema", "Bloqueio total: resposta da ITTV demo.", "ITTV demo confirmou: Bloqueio total — Inativo"),
        ("Olga Operadora", "Contrato suspenso; acesso bloqueado na ITTV demo.", None),
        ("Sistema", "Ativação: resposta da ITTV demo.", "ITTV demo criou o assinante: Ativo, produto PlayHub Premium"),
        ("Olga Operadora", "Sincronização solicitada com ITTV demo: criar o assinante; acesso: Ativo.", "Concluída"),
        (
            "Olga Operadora",
            "Contrato criado com o plano PlayHub TV (R$ 39,90 por mês, 12 meses), vencimento todo dia 31.",
            None,
        ),
    ]
    expect(history).to_have_count(len(expected))
    for row, (actor, asked, answer) in zip(history.all(), expected, strict=False):
        expect(row.get_by_role("cell").nth(1)).to_contain_text(actor)
        expect(row.get_by_role("cell").nth(2)).to_contain_text(asked)
        if answer:
            expect(row.get_by_role("cell").nth(3)).to_contain_text(answer)

    # Search from the landing: by the CPF's digits and by the contract number.
    open_painel_do_cliente(page)
    for query in ("52998224725", str(first)):
        page.get_by_label("Buscar cliente").fill(query)
        page.get_by_role("button", name="Buscar").click()
        expect(page.get_by_role("heading", name=f"Clientes encontrados para “{query}”")).to_be_visible()
        results = page.get_by_role("table")
        expect(results.get_by_role("link", name="Maria da Silva")).to_be_visible()
        expect(results).to_contain_text("529.982.247-25")
        if len(query) == 11:  # a short number may also be another client's code
            expect(results).not_to_contain_text("João Souza")
    page.get_by_role("link", name="Limpar").click()
    expect(page.get_by_role("heading", name="Últimos 1000 novos cadastros ativos")).to_be_visible()
    page.get_by_role("table").get_by_role("link", name="Maria da Silva").click()
    contracts = page.get_by_role("table").get_by_role("row")
    expect(contracts.filter(has_text=f"Contrato {first}").get_by_test_id("contract-status")).to_have_text("Cancelado")
    expect(contracts.filter(has_text=f"Contrato {second}").get_by_test_id("contract-status")).to_have_text("Ativo")


def test_leitura_reads_a_contract_but_has_no_buttons(app, page: Page, live_server, make_user):
    person = make_client(app, document=CPFS[0], name="Maria da Silva")
    contract_id = make_contract(app, person, ittv_plan(app))
    reader = make_user("leitura", name="Lia Leitora")

    log_in(page, live_server, reader.username)
    open_painel_do_cliente(page)
    expect(page.get_by_role("link", name="Nova pessoa física")).to_have_count(0)
    expect(page.get_by_role("link", name="Nova empresa")).to_have_count(0)
    page.get_by_role("table").get_by_role("link", name="Maria da Silva").click()
    expect(page.get_by_role("link", name="Editar cadastro")).to_have_count(0)
    expect(page.get_by_role("link", name="Novo contrato")).to_have_count(0)

    page.get_by_role("link", name=f"Contrato {contract_id}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contrato {contract_id}")
    expect(status_badge(page)).to_have_text("Ativo")
    expect(page.get_by_text("Ainda não sincronizado")).to_be_visible()
    for button in CONTRACT_BUTTONS:
        expect(page.get_by_role("button", name=button, exact=True)).to_have_count(0)
    expect(page.get_by_role("cell", name=re.compile("Contrato criado com o plano PlayHub TV"))).to_be_visible()


def test_operator_registers_a_company_with_two_skeelo_contracts(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    skeelo = platform_at(app, sandbox_for("skeelo"), plan_name="Skeelo Leitura")
    operator = make_user("operador", name="Olga Operadora")
    today = local_today().isoformat()

    log_in(page, live_server, operator.username)
    open_painel_do_cliente(page)

    # Nova empresa: the CNPJ is checked the same way.
    page.get_by_role("link", name="Nova empresa").click()
    expect(page.get_by_label("Empresa")).to_be_checked()
    page.get_by_label("Razão social", exact=True).fill("Livraria Ltda")
    page.get_by_label("CNPJ", exact=True).fill("11.222.333/0001-80")
    page.get_by_label("E-mail").fill("contato@livraria.com.br")
    page.get_by_role("button", name="Salvar").click()
    expect(page.locator("#document-error")).to_have_text("CNPJ inválido: confira os dígitos.")
    expect(page.locator("[data-error-summary]").get_by_role("link", name="CNPJ")).to_have_attribute("href", "#document")
    page.get_by_label("CNPJ", exact=True).fill("11.222.333/0001-81")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Livraria Ltda")
    expect(page.get_by_test_id("client-document")).to_have_text("11.222.333/0001-81")

    # Skeelo takes several contracts of one client: both are synced, each its own subscriber.
    numbers = []
    for _ in range(2):
        numbers.append(number := new_contract(page, "Skeelo Leitura — SVA, SKEELO demo, R$ 39,90/mês", today, "10"))
        press_and_confirm(page, "Sincronizar", "Sincronizar")
        expect(flash(page, "Sincronização solicitada.")).to_be_visible()
        expect(page.get_by_test_id("remote-status")).to_have_text("Ativo", timeout=20000)
        page.get_by_role("main").get_by_role("link", name="Livraria Ltda").first.click()
        expect(page.get_by_role("link", name=f"Contrato {number}", exact=True)).to_be_visible()
    records = wait_until(
        lambda: len(skeelo.sandbox.records()) == 2 and skeelo.sandbox.records(),
        timeout=20,
        message="two Skeelo subscribers",
    )
    assert {r["status"] for r in records} == {"active"} and {r["document"] for r in records} == {"11222333000181"}

    def skeelo_status(expected: str) -> None:
        wait_until(
            lambda: any(
                r["status"] == expected and r["external_id"].startswith(f"psva-{numbers[1]}-")
                for r in skeelo.sandbox.records()
            ),
            timeout=20,
            message=f"Skeelo {expected}",
        )

    # At Skeelo, Cancelar suspensão gives the access back by itself (no Desbloqueio needed).
    page.get_by_role("link", name=f"Contrato {numbers[1]}", exact=True).click()
    press_and_confirm(page, "Suspender contrato", "Suspender")
    expect(status_badge(page)).to_have_text("Suspenso")
    expect(page.get_by_test_id("remote-status")).to_have_text("Bloqueado", timeout=20000)  # Skeelo has no partial block
    skeelo_status("inactive")
    press_and_confirm(page, "Cancelar suspensão", "Cancelar suspensão")
    expect(flash(page, "Suspensão cancelada: contrato ativo.")).to_have_text("Suspensão cancelada: contrato ativo.")
    expect(status_badge(page)).to_have_text("Ativo")
    expect(page.get_by_test_id("desired-status")).to_have_text("Ativo")
    expect(page.get_by_test_id("remote-status")).to_have_text("Ativo", timeout=20000)
    skeelo_status("active")

    # Cancelar contrato: cancelled at Skeelo, and nothing more is accepted.
    press_and_confirm(page, "Cancelar contrato", "Cancelar contrato")
    expect(flash(page, "OK! Contrato cancelado com sucesso.")).to_be_visible()
    expect(page.get_by_test_id("remote-status")).to_have_text("Cancelado", timeout=20000)
    skeelo_status("cancelled")
    for button in CONTRACT_BUTTONS:
        expect(page.get_by_role("button", name=button, exact=True)).to_have_count(0)
