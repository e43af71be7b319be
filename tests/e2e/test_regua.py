"""J1 step 8 — the régua de cobrança, in a real browser with a real `flask worker` and the
platforms' sandboxes: an admin creates the rule *Manutenção de conexão, 15 dias* (*Bloqueio de
TV* for ITTV, *Bloqueio SVA* for Skeelo) in Configurações → Réguas; a client's título is 16 days
overdue; the day's simulation lists the contract, the day's run blocks it (the platform's own
record goes inactive), the contract's history has the line by *Régua* naming the rule; *Baixar
título* lifts the block (active again at the platform) with its own line.

The walk lists and runs the day twice over: on the page (*Simular régua*, *Executar agora*), and
with the command line the scheduler's job runs the same way (``flask regua run --dry-run`` /
``flask regua run``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import func, select

from panel.domain import invoices
from panel.domain.common import local_today
from panel.extensions import db
from panel.models import Contract, Operation, Subscription
from tests.conftest import FLASK, PROJECT_ROOT
from tests.e2e.pages import reload
from tests.e2e.test_login_and_menus import log_in, open_menu
from tests.e2e.test_painel_cliente import flash, press_and_confirm
from tests.factories import CNPJS, CPFS, SYSTEM, make_client, make_contract
from tests.processes import wait_until
from tests.provisioning import platform_at

DAYS_LATE = 16  # the rule's 15 days, and one more
SIMULAR = "/configuracoes/reguas/simular"
CLI_TIMEOUT_S = 120


@dataclass(frozen=True)
class Case:
    """One platform's twin of the walk."""

    kind: str
    plan_name: str
    action: str  # the rule's *Ação a ser executada*
    platform_name: str  # its *Abrangência*
    document: str
    document_field: str  # where the sandbox keeps it
    client_name: str
    email: str
    active: str  # the platform's own words
    inactive: str

    @property
    def blocked_word(self) -> str:
        """How the history names the block here (Skeelo has no partial block: "Bloqueado")."""
        return "Bloqueio total" if self.kind == "ittv" else "Bloqueado"

    @property
    def rule_words(self) -> str:
        return f"Manutenção de conexão, 15 dias — {self.action}"


ITTV = Case(
    kind="ittv",
    plan_name="PlayHub TV",
    action="Bloqueio de TV",
    platform_name="ITTV demo",
    document=CPFS[0],
    document_field="cpf",
    client_name="Maria da Silva",
    email="maria@example.com.br",
    active="ACTIVE",
    inactive="INACTIVE",
)
SKEELO = Case(
    kind="skeelo",
    plan_name="Skeelo Leitura",
    action="Bloqueio SVA",
    platform_name="SKEELO demo",
    document=CNPJS[0],
    document_field="document",
    client_name="Livraria Ltda",
    email="contato@livraria.com.br",
    active="active",
    inactive="inactive",
)


# -- the steps ----------------------------------------------------------------------------------


def platform_status(sandbox, case: Case, expected: str) -> dict:
    """The platform's own record of the client, once it holds ``expected`` (polled)."""

    def found():
        return next(
            (r for r in sandbox.records() if r[case.document_field] == case.document and r["status"] == expected),
            None,
        )

    return wait_until(found, timeout=30, message=f"{case.kind} sandbox to hold {case.document} {expected}")


def confirmed(app, contract_id: int, status: str) -> None:
    """Until the worker has recorded the platform's confirmation (its step committed), so that the
    page loaded next shows it without depending on the box's live update."""

    def recorded():
        with app.app_context():
            remote = db.session.scalar(
                select(Subscription.remote_status).where(Subscription.contract_id == contract_id)
            )
            unfinished = db.session.scalar(
                select(func.count())
                .select_from(Operation)
                .join(Subscription)
                .where(Subscription.contract_id == contract_id, Operation.status.not_in(("done", "failed")))
            )
        return remote == status and not unfinished

    wait_until(recorded, timeout=30, message=f"the panel to record {status} for contract {contract_id}")


def create_rule(page: Page, case: Case) -> None:
    """Configurações → Réguas de configuração → Nova régua: 15 days, the case's action, its platform."""
    open_menu(page, "Configurações").get_by_role("link", name="Réguas de configuração").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réguas de configuração")
    page.get_by_role("link", name="Nova régua").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nova régua")
    page.get_by_label("Tipo da régua").select_option(label="Manutenção de conexão")
    page.get_by_label("Dias em atraso").fill("15")
    page.get_by_label("Ação a ser executada").select_option(label=case.action)
    page.get_by_label("Abrangência").select_option(label=case.platform_name)
    expect(page.get_by_label("Desbloquear automaticamente quando o título for pago")).to_be_checked()
    expect(page.get_by_label("Ativa")).to_be_checked()
    page.get_by_role("button", name="Salvar").click()
    title = f"{case.action} após 15 dias em atraso"
    expect(flash(page, f"Régua “{title}” salva.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=title)
    expect(row).to_contain_text("Manutenção de conexão")
    expect(row).to_contain_text(case.platform_name)
    expect(row).to_contain_text("Ativa")


def flask_regua(panel_env: dict, *args: str) -> str:
    """``flask --app app regua run …`` as its own process, on the test's database and Redis."""
    finished = subprocess.run(
        [FLASK, "--app", "app", "regua", "run", *args],
        cwd=PROJECT_ROOT,
        env=panel_env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def simulate_and_run_by_cli(page: Page, live_server: str, panel_env: dict, contract_id: int, case: Case) -> None:
    """Today's régua listed, then run, by the CLI (what the scheduler's job does)."""
    today, due = local_today(), local_today() - timedelta(days=DAYS_LATE)
    simulated = flask_regua(panel_env, "--dry-run")
    assert f"Simulação da régua para {today:%d/%m/%Y} (nada foi alterado)" in simulated
    assert f"Régua {case.rule_words}: 1 candidato; 1 seria bloqueado" in simulated
    assert (
        f"bloquear contrato {contract_id} ({case.client_name}, {case.platform_name}): "
        f"título {due:%m/%Y} vencido há {DAYS_LATE} dias"
    ) in simulated
    ran = flask_regua(panel_env)
    assert f"Régua {case.rule_words}: 1 candidato; 1 bloqueado;" in ran
    assert f"bloquear contrato {contract_id} ({case.client_name}, {case.platform_name})" in ran


def open_simular(page: Page, live_server: str, day: date) -> None:
    """Configurações → Réguas → *Simular régua* for ``day``."""
    response = page.goto(f"{live_server}{SIMULAR}?data={day.isoformat()}")
    assert response is not None and response.ok, response and response.status
    page.wait_for_load_state("load")  # app.js has hooked the confirmations by then


def simulate_and_run_now(page: Page, live_server: str, panel_env: dict, contract_id: int, case: Case) -> None:
    """The same two steps on the page: *Simular régua* for today lists the contract under the
    rule, and *Executar agora* (admins) runs the day (a run job for the worker, then the
    blocks' operations)."""
    open_simular(page, live_server, local_today())
    due = local_today() - timedelta(days=DAYS_LATE)
    main = page.get_by_role("main")
    expect(main).to_contain_text(case.rule_words)
    listed = main.get_by_role("row").filter(has_text=case.client_name)
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(str(contract_id))
    expect(listed).to_contain_text(f"{due:%m/%Y}")
    main.get_by_role("button", name="Executar agora").first.click()
    accept = page.locator("#confirm-modal [data-confirm-accept]")  # when the button asks first
    try:
        accept.wait_for(state="visible", timeout=3000)
    except PlaywrightTimeoutError:
        pass
    else:
        accept.click()
    page.wait_for_load_state("load")


# -- the walk -----------------------------------------------------------------------------------


def walk(
    app,
    page: Page,
    live_server: str,
    make_user,
    sandbox_for,
    panel_env: dict,
    case: Case,
    simulate_and_run: Callable[[Page, str, dict, int, Case], None],
) -> None:
    setup = platform_at(app, sandbox_for(case.kind), plan_name=case.plan_name)
    admin = make_user("admin", name="Ana Admin")
    today = local_today()
    due = today - timedelta(days=DAYS_LATE)
    month, today_br = f"{due:%m/%Y}", f"{today:%d/%m/%Y}"

    # The client's contract began before the título that is now 16 days overdue: its due day is
    # that título's, and the título is generated as `flask invoices generate` would have that month.
    client_id = make_client(app, document=case.document, name=case.client_name, email=case.email)
    contract_id = make_contract(app, client_id, setup.plan_id, start_date=due - timedelta(days=40), due_day=due.day)
    with app.app_context():
        invoices.generate_for_contract(SYSTEM, db.session.get(Contract, contract_id), invoices.month_start(due))

    log_in(page, live_server, admin.username)

    # 1. The rule, in Configurações → Réguas de configuração → Nova régua.
    create_rule(page, case)

    # 2. The contract: its título 16 days overdue; Sincronizar — the platform holds it active.
    page.goto(f"{live_server}/financeiro/painel-do-cliente/contratos/{contract_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contrato {contract_id}")
    invoice_row = page.get_by_role("row").filter(has=page.get_by_test_id("invoice-status")).filter(has_text=month)
    expect(invoice_row.get_by_test_id("invoice-status")).to_have_text(f"Vencido há {DAYS_LATE} dias")
    press_and_confirm(page, "Sincronizar", "Sincronizar")
    expect(flash(page, "Sincronização solicitada.")).to_be_visible()
    platform_status(setup.sandbox, case, case.active)
    confirmed(app, contract_id, "active")
    reload(page)
    expect(page.get_by_test_id("remote-status")).to_have_text("Ativo")

    # 3. The day's régua: the simulation lists the contract, the run blocks it.
    simulate_and_run(page, live_server, panel_env, contract_id, case)

    # 4. The worker takes the block to the platform, and the contract says so, with the line by Régua.
    platform_status(setup.sandbox, case, case.inactive)
    confirmed(app, contract_id, "blocked")
    page.goto(f"{live_server}/financeiro/painel-do-cliente/contratos/{contract_id}")
    expect(page.get_by_test_id("desired-status")).to_have_text(case.blocked_word)
    expect(page.get_by_test_id("remote-status")).to_have_text(case.blocked_word)
    history = page.locator("#historico + .table-responsive tbody tr")
    block_line = history.filter(has_text="Bloqueio automático pela Régua de Configuração")
    expect(block_line).to_have_count(1)
    expect(block_line.get_by_role("cell").nth(1)).to_contain_text("Régua")
    expect(block_line.get_by_role("cell").nth(1)).to_contain_text("automático")
    expect(block_line.get_by_role("cell").nth(2)).to_have_text(
        f"Bloqueio automático pela Régua de Configuração: {case.rule_words}; "
        f"título {month} vencido há {DAYS_LATE} dias."
    )
    expect(block_line.get_by_role("cell").nth(3)).to_contain_text("Concluída")
    expect(history.filter(has_text=f"{case.platform_name} confirmou: {case.blocked_word}")).to_have_count(1)

    # 5. Baixar título: the payment lifts the régua's block, and the platform has it active again.
    invoice_row.get_by_role("link", name="Baixar título").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Baixar título {month} — Contrato {contract_id}")
    page.get_by_label("Data do pagamento").fill(today.isoformat())
    page.get_by_label("Valor pago (R$)").fill("39,90")
    page.get_by_role("button", name="Baixar título").click()
    expect(flash(page, f"Título {month} baixado.")).to_be_visible()
    expect(invoice_row.get_by_test_id("invoice-status")).to_have_text(f"Pago em {today_br} (R$ 39,90)")
    expect(page.get_by_test_id("desired-status")).to_have_text("Ativo")
    platform_status(setup.sandbox, case, case.active)
    confirmed(app, contract_id, "active")
    reload(page)
    expect(page.get_by_test_id("remote-status")).to_have_text("Ativo")
    unblock_line = history.filter(has_text="Desbloqueio automático pelo pagamento")
    expect(unblock_line).to_have_count(1)
    expect(unblock_line.get_by_role("cell").nth(1)).to_contain_text("Ana Admin")
    expect(unblock_line.get_by_role("cell").nth(2)).to_have_text(
        f"Desbloqueio automático pelo pagamento do título {month} (Régua de Configuração: {case.rule_words})."
    )
    expect(unblock_line.get_by_role("cell").nth(3)).to_contain_text("Concluída")
    # Newest first: the unblock above the block.
    lines = [text for text in history.all_inner_texts() if re.search(r"automático pel[ao] (pagamento|Régua)", text)]
    assert [("Desbloqueio" in line, "Bloqueio automático" in line) for line in lines] == [(True, False), (False, True)]
    assert len([r for r in setup.sandbox.records() if r[case.document_field] == case.document]) == 1


# -- J1.8, and its Skeelo twin ------------------------------------------------------------------


@pytest.mark.parametrize("case", [ITTV, SKEELO], ids=["ittv-bloqueio-de-tv", "skeelo-bloqueio-sva"])
def test_the_regua_blocks_a_contract_16_days_overdue_and_baixar_titulo_unblocks_it(
    app, page: Page, live_server, make_user, sandbox_for, panel_env, worker, case
):
    """*Simular régua* lists the contract, *Executar agora* runs the day (the worker carries the
    run out, then the block), *Baixar título* lifts the block."""
    walk(app, page, live_server, make_user, sandbox_for, panel_env, case, simulate_and_run_now)


@pytest.mark.parametrize("case", [ITTV, SKEELO], ids=["ittv-bloqueio-de-tv", "skeelo-bloqueio-sva"])
def test_the_same_walk_with_the_command_line(
    app, page: Page, live_server, make_user, sandbox_for, panel_env, worker, case
):
    """The scheduler's way: `flask regua run --dry-run`, then `flask regua run`."""
    walk(app, page, live_server, make_user, sandbox_for, panel_env, case, simulate_and_run_by_cli)
