"""Integradores in a real browser, with a real worker and the platforms' sandboxes: J1 steps 6–7
(ITTV: partial block → *Assinantes bloqueados*, total block, unblock → *Assinantes ativos*) and
J2 step 4 (Skeelo: block and unblock), each checked at the platform itself (the sandbox's own
records) once the worker ran the request, and on the page without reloading it by hand; a bulk
action over ticked rows; leitura sees the lists without buttons."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import Subscription
from tests.e2e.pages import reload
from tests.e2e.test_login_and_menus import log_in, open_menu
from tests.e2e.test_painel_cliente import flash, press_and_confirm
from tests.factories import CNPJS, CPFS
from tests.processes import wait_until
from tests.provisioning import act, platform_at

# The worker answers in well under a second; this leaves room for a slow CI machine.
WORKER_TIMEOUT = 30_000


def row(page: Page, contract_id: int):
    return page.locator(f'tr[data-contract="{contract_id}"]')


def open_tab(page: Page, label: str) -> None:
    page.get_by_test_id("list-tabs").get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_test_id("list-tabs").get_by_role("link", name=label, exact=True)).to_have_attribute(
        "aria-current", "page"
    )


def synced_contract(app, setup, **client) -> int:
    """A contract whose Sincronizar was asked (the worker creates the subscriber)."""
    contract_id = setup.contract(app, **client)
    act(app, contract_id, "sync")
    return contract_id


def platform_record(sandbox, key: str, value: str, **expected) -> dict:
    """Wait until the platform's own record (found by ``key``) shows ``expected``."""

    def matches():
        found = [r for r in sandbox.records() if r.get(key) == value]
        return found[0] if found and all(found[0].get(k) == v for k, v in expected.items()) else None

    return wait_until(matches, timeout=WORKER_TIMEOUT / 1000, message=f"{sandbox.kind} record with {expected}")


def test_j1_ittv_partial_block_total_block_and_unblock_from_clientes_de_tv(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = synced_contract(app, ittv, document=CPFS[0], name="Maria da Silva")
    operator = make_user("operador", name="Olga Operadora")

    log_in(page, live_server, operator.username)
    open_menu(page, "Integradores").get_by_role("link", name="Gerenciamento TV → Clientes de TV").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Clientes de TV")
    expect(page.get_by_role("heading", name="Assinantes ativos")).to_be_visible()
    subscriber = row(page, contract_id)
    expect(subscriber).to_contain_text("Maria da Silva")
    expect(subscriber).to_contain_text("529.982.247-25")
    # The sync confirmed by ITTV shows up in the row by itself (the cell polls while it runs).
    expect(subscriber.get_by_test_id("remote-status")).to_have_text("Ativo", timeout=WORKER_TIMEOUT)
    platform_record(ittv.sandbox, "cpf", CPFS[0], status="ACTIVE", product="PLAYHUB-PREMIUM")

    # J1.6 — Bloqueio parcial: the row leaves Assinantes ativos for Assinantes bloqueados.
    expect(subscriber.get_by_role("button", name="Desbloqueio dos pontos deste contrato")).to_have_count(0)
    press_and_confirm(page, "Bloqueio parcial dos pontos deste contrato", "Bloqueio parcial", within=subscriber)
    expect(flash(page, f"Contrato {contract_id}: Bloqueio parcial solicitado.")).to_be_visible()
    expect(row(page, contract_id)).to_have_count(0)
    open_tab(page, "Assinantes bloqueados")
    subscriber = row(page, contract_id)
    expect(subscriber.get_by_test_id("desired-status")).to_have_text("Bloqueio parcial")
    expect(subscriber.get_by_test_id("remote-status")).to_have_text("Bloqueio parcial", timeout=WORKER_TIMEOUT)
    expect(subscriber.get_by_test_id("operation-state")).to_have_count(0)  # nothing pending any more
    # ITTV keeps the customer ACTIVE with only the plan's base package.
    platform_record(ittv.sandbox, "cpf", CPFS[0], status="ACTIVE", product="PLAYHUB-BASICO")

    # The contract's history has the line, with the operator's name.
    subscriber.get_by_role("link", name=f"Contrato {contract_id}").click()
    history = page.locator("#historico + .table-responsive tbody tr")
    line = history.filter(has_text="Bloqueio parcial solicitado na ITTV demo.")
    expect(line.first.get_by_role("cell").nth(1)).to_have_text("Olga Operadora")
    expect(page.get_by_test_id("remote-status")).to_have_text("Bloqueio parcial")
    page.go_back()

    # J1.7 — Bloqueio total: ITTV shows INACTIVE.
    reload(page)
    subscriber = row(page, contract_id)
    press_and_confirm(page, "Bloqueio total dos pontos deste contrato", "Bloqueio total", within=subscriber)
    expect(flash(page, f"Contrato {contract_id}: Bloqueio total solicitado.")).to_be_visible()
    subscriber = row(page, contract_id)  # still in Assinantes bloqueados
    expect(subscriber.get_by_test_id("remote-status")).to_have_text("Bloqueio total", timeout=WORKER_TIMEOUT)
    platform_record(ittv.sandbox, "cpf", CPFS[0], status="INACTIVE")

    # Desbloqueio: back in Assinantes ativos, ACTIVE with the full product.
    press_and_confirm(page, "Desbloqueio dos pontos deste contrato", "Desbloqueio", within=subscriber)
    expect(flash(page, f"Contrato {contract_id}: Desbloqueio solicitado.")).to_be_visible()
    expect(row(page, contract_id)).to_have_count(0)
    open_tab(page, "Assinantes ativos")
    expect(row(page, contract_id).get_by_test_id("remote-status")).to_have_text("Ativo", timeout=WORKER_TIMEOUT)
    record = platform_record(ittv.sandbox, "cpf", CPFS[0], status="ACTIVE", product="PLAYHUB-PREMIUM")
    assert len([r for r in ittv.sandbox.records() if r["cpf"] == CPFS[0]]) == 1 and record["_id"]

    # Operações lists the four requests, all done, with who asked them.
    open_menu(page, "Integradores").get_by_role("link", name="Operações").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Operações")
    operations = page.get_by_test_id("operation-row")
    expect(operations).to_have_count(4)
    for index in range(4):
        expect(operations.nth(index).get_by_test_id("operation-state")).to_contain_text("Concluída")
    expect(operations.first).to_contain_text("Desbloqueio")
    expect(operations.first).to_contain_text("Olga Operadora")


def test_j2_skeelo_block_and_unblock_from_gerenciador_de_licencas(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    skeelo = platform_at(app, sandbox_for("skeelo"))
    contract_id = synced_contract(app, skeelo, document=CNPJS[0], name="Livraria Ltda", email="contato@livraria.com.br")
    with app.app_context():
        external_ref = db.session.scalar(db.select(Subscription.external_ref))
    operator = make_user("operador", name="Olga Operadora")

    log_in(page, live_server, operator.username)
    open_menu(page, "Integradores").get_by_role("link", name="Gerenciador de licenças → Assinantes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Assinantes")
    expect(page.get_by_role("link", name="Fornecedores")).to_be_visible()
    subscriber = row(page, contract_id)
    expect(subscriber.get_by_test_id("remote-status")).to_have_text("Ativo", timeout=WORKER_TIMEOUT)
    platform_record(skeelo.sandbox, "external_id", external_ref, status="active")
    expect(subscriber.get_by_role("button", name=re.compile("Bloqueio parcial"))).to_have_count(0)

    # Skeelo answers slowly this time: the row shows the request on its way, then the answer,
    # without the page being reloaded.
    skeelo.sandbox.inject("slow", delay=3, match="PATCH /v1/subscribers")
    press_and_confirm(page, "Bloquear assinante", "Bloquear assinante", within=subscriber)
    expect(flash(page, f"Contrato {contract_id}: Bloqueio solicitado.")).to_be_visible()
    open_tab(page, "Assinantes bloqueados")
    page.evaluate("window.samePage = true")
    subscriber = row(page, contract_id)
    expect(subscriber.get_by_test_id("operation-state")).to_contain_text(re.compile("Na fila|Em execução"))
    # Skeelo has no partial block: its blocked subscriber reads "Bloqueado".
    expect(subscriber.get_by_test_id("remote-status")).to_have_text(
        "Bloqueado", timeout=WORKER_TIMEOUT
    )  # Skeelo's word
    expect(subscriber.get_by_test_id("operation-state")).to_have_count(0)
    assert page.evaluate("window.samePage") is True
    platform_record(skeelo.sandbox, "external_id", external_ref, status="inactive")

    press_and_confirm(page, "Desbloquear assinante", "Desbloquear assinante", within=subscriber)
    expect(flash(page, f"Contrato {contract_id}: Desbloqueio solicitado.")).to_be_visible()
    open_tab(page, "Assinantes ativos")
    expect(row(page, contract_id).get_by_test_id("remote-status")).to_have_text("Ativo", timeout=WORKER_TIMEOUT)
    platform_record(skeelo.sandbox, "external_id", external_ref, status="active")


def test_bulk_total_block_of_the_ticked_rows(app, page: Page, live_server, make_user, sandbox_for, worker):
    ittv = platform_at(app, sandbox_for("ittv"))
    contracts = [
        synced_contract(app, ittv, document=cpf, name=f"Cliente {n}", email=f"c{n}@example.com.br")
        for n, cpf in enumerate(CPFS[:3])
    ]
    operator = make_user("operador", name="Olga Operadora")

    log_in(page, live_server, operator.username)
    page.goto(live_server + "/integradores/tv/clientes")
    for contract_id in contracts:
        expect(row(page, contract_id).get_by_test_id("remote-status")).to_have_text("Ativo", timeout=WORKER_TIMEOUT)
    bar = page.locator("#bulk-form")
    apply = bar.get_by_role("button", name="Aplicar aos marcados")
    expect(apply).to_be_disabled()  # no action, no row yet
    page.get_by_label("Marcar todos desta página").check()
    expect(bar).to_contain_text("3 contratos marcados.")
    row(page, contracts[0]).get_by_role("checkbox").uncheck()
    expect(bar).to_contain_text("2 contratos marcados.")
    bar.get_by_label("Com os contratos marcados:").select_option(label="Bloqueio total dos pontos deste contrato")
    apply.click()
    modal = page.locator("#confirm-modal")
    expect(modal).to_contain_text("Bloqueio total dos pontos deste contrato: aplicar aos 2 contratos marcados?")
    modal.get_by_role("button", name="Aplicar", exact=True).click()
    page.wait_for_load_state("load")
    expect(flash(page, "2 pedidos registrados.")).to_be_visible()
    expect(row(page, contracts[0])).to_be_visible()
    open_tab(page, "Assinantes bloqueados")
    for contract_id, cpf in zip(contracts[1:], CPFS[1:3], strict=False):
        expect(row(page, contract_id).get_by_test_id("remote-status")).to_have_text(
            "Bloqueio total", timeout=WORKER_TIMEOUT
        )
        platform_record(ittv.sandbox, "cpf", cpf, status="INACTIVE")
    platform_record(ittv.sandbox, "cpf", CPFS[0], status="ACTIVE")


def test_leitura_sees_the_lists_without_buttons(app, page: Page, live_server, make_user, sandbox_for):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = synced_contract(app, ittv)
    reader = make_user("leitura", name="Lia Leitora")

    log_in(page, live_server, reader.username)
    open_menu(page, "Integradores").get_by_role("link", name="Gerenciamento TV → Clientes de TV").click()
    subscriber = row(page, contract_id)
    expect(subscriber).to_contain_text("Maria da Silva")
    expect(subscriber.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.locator("#bulk-form")).to_have_count(0)


def test_the_contract_page_follows_a_slow_request_to_its_answer(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = synced_contract(app, ittv)
    platform_record(ittv.sandbox, "cpf", CPFS[0], status="ACTIVE")
    reader = make_user("leitura", name="Lia Leitora")
    ittv.sandbox.inject("slow", delay=3, match="PUT /alpha/reseller/customer")
    act(app, contract_id, "block")

    log_in(page, live_server, reader.username)
    page.goto(f"{live_server}/financeiro/painel-do-cliente/contratos/{contract_id}")
    requests = page.get_by_test_id("operation-state")
    expect(requests).to_contain_text(re.compile(r"Bloqueio total: (Na fila|Em execução)"))
    expect(page.get_by_test_id("remote-status")).to_have_text("Ativo")
    # Once ITTV answers, the box says so and the page shows the confirmed access.
    expect(requests).to_contain_text("Bloqueio total: Concluída", timeout=WORKER_TIMEOUT)
    expect(page.get_by_test_id("remote-status")).to_have_text("Bloqueio total")
    expect(page.locator("#historico + .table-responsive")).to_contain_text(
        "ITTV demo confirmou: Bloqueio total — Inativo"
    )
    platform_record(ittv.sandbox, "cpf", CPFS[0], status="INACTIVE")
