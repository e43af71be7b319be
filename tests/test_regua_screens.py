"""The régua's screens through the real app (both databases): *Simular régua* and *Executar agora*
(with a real RQ worker and the ITTV sandbox), Operações filtered by a run, Financeiro → Títulos
(tabs, filters, totals, keyset pages, *Baixar título*, *Estornar baixa*) and the contract page's
exemption box and block origin."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from panel.domain import invoices, regua
from panel.domain.common import local_today
from panel.extensions import db
from panel.models import (
    BlockOrigin,
    Contract,
    Invoice,
    Operation,
    Platform,
    ReguaRun,
    ReguaTrigger,
)
from tests.conftest import AuthActions, csrf_token_from, post_form
from tests.factories import CNPJS, CPFS, SYSTEM, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act, history, platform_at, subscription
from tests.test_regua import DUE, billed_contract, tv_rule

SIMULAR = "/configuracoes/reguas/simular"
EXECUTAR = "/configuracoes/reguas/executar"
PROGRESSO = "/configuracoes/reguas/execucoes/hoje"
OPERACOES = "/integradores/operacoes"
TITULOS = "/financeiro/painel-do-cliente/titulos"
CONTRACT_PAGE = "/financeiro/painel-do-cliente/contratos/{}"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def flashes(html: str) -> str:
    return " ".join(re.findall(r"data-message>\s*(.*?)\s*<button", html, re.S))


def text_of(html: str) -> str:
    """The page's text, tags dropped and spaces collapsed (for sentences that span elements)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def simulated(html: str) -> list[tuple[int, int, str, str]]:
    """The simulation's lines: (contract, rule, decision, the row's text)."""
    found = []
    for match in re.finditer(
        r'<tr data-testid="simulated-row" data-contract="(\d+)" data-rule="(\d+)" data-decision="(\w+)">(.*?)</tr>',
        html,
        re.S,
    ):
        found.append((int(match[1]), int(match[2]), match[3], text_of(match[4])))
    return found


def summary(html: str, rule_id: int) -> dict[str, str]:
    row = re.search(rf'data-testid="rule-summary" data-rule="{rule_id}">(.*?)</tr>', html, re.S)[1]
    return {
        name: text_of(re.search(rf'data-testid="{name}">(.*?)</td>', row, re.S)[1])
        for name in ("count-candidates", "count-block", "count-unblock", "count-skip")
    }


def overdue_today(app, plan_id: int, days: int, *, document: str = CPFS[0], email: str = "hoje@example.com.br") -> int:
    """A synced contract whose one título fell due ``days`` days before today (the operators' day)."""
    with app.app_context():
        due = local_today() - timedelta(days=days)
    contract_id = make_contract(
        app,
        make_client(app, document=document, email=email),
        plan_id,
        start_date=due - timedelta(days=40),
        due_day=due.day,
    )
    act(app, contract_id, "sync")
    with app.app_context():
        invoice = invoices.generate_for_contract(SYSTEM, db.session.get(Contract, contract_id), due.replace(day=1))
        assert invoice.due_date == due
    return contract_id


def second_client(app, make_user, role: str):
    """Another browser, logged in as a new user of ``role`` (two roles in one test)."""
    other = app.test_client()
    user = make_user(role)
    assert AuthActions(other).login(user.username).status_code == 302
    return other, user


# -- Simular régua --------------------------------------------------------------------------------


def test_the_simulation_lists_who_would_be_blocked_and_who_is_skipped_and_why(app, login_as, client):
    rule15 = tv_rule(app, 15)
    rule10 = tv_rule(app, 10, action="tv_partial_block")
    plan = ittv_plan(app)
    late = billed_contract(app, plan)
    exempt = billed_contract(app, plan, document=CPFS[1], email="isento@example.com.br")
    suspended = billed_contract(app, plan, document=CPFS[2], email="suspenso@example.com.br")
    manual = billed_contract(app, plan, document=CPFS[3], email="manual@example.com.br")
    billed_contract(app, plan, document=CPFS[4], email="em-dia@example.com.br", months=())  # nothing overdue
    act(app, suspended, "suspend")
    act(app, manual, "block")
    with app.app_context():
        contract = db.session.get(Contract, exempt)
        contract.exempt_until, contract.exempt_reason = DUE + timedelta(days=30), "Negociação em andamento"
        before = db.session.scalar(select(func.count()).select_from(Operation))
    login_as("leitura")

    html = page(client, f"{SIMULAR}?data={(DUE + timedelta(days=16)).isoformat()}")
    assert "26/10/2026" in html
    lines = {(contract_id, rule_id): (decision, text) for contract_id, rule_id, decision, text in simulated(html)}
    decision, text = lines[(late, rule15)]
    assert decision == "block" and "A bloquear" in text and "10/2026" in text and " 16 " in f" {text} "
    assert f'href="/financeiro/painel-do-cliente/contratos/{late}"' in html
    assert lines[(late, rule10)][0] == "block"  # the partial block's rule too (10 days)
    decision, text = lines[(exempt, rule15)]
    assert decision == "skip" and "Isento até 09/11/2026: Negociação em andamento" in text
    assert lines[(suspended, rule15)][0] == "skip" and "Contrato suspenso" in lines[(suspended, rule15)][1]
    assert lines[(manual, rule15)][0] == "skip" and "Já bloqueado" in lines[(manual, rule15)][1]
    assert len(lines) == 8  # four candidates, two rules; the contract with nothing overdue is not one
    assert summary(html, rule15) == {
        "count-candidates": "4",
        "count-block": "1",
        "count-unblock": "0",
        "count-skip": "3 (1 isento, 1 já bloqueado, 1 contrato suspenso)",
    }

    # Filtered by decision and by rule; the counts per rule stay the day's.
    html = page(client, f"{SIMULAR}?data=2026-10-26&decisao=ignorados&regra={rule15}")
    assert sorted(c for c, _, _, _ in simulated(html)) == sorted([exempt, suspended, manual])
    assert {r for _, r, _, _ in simulated(html)} == {rule15}
    assert summary(html, rule10)["count-block"] == "1"
    html = page(client, f"{SIMULAR}?data=2026-10-26&decisao=bloquear")
    assert [(c, r) for c, r, _, _ in simulated(html)] == [(late, rule15), (late, rule10)]
    html = page(client, f"{SIMULAR}?data=2026-10-26&contrato={exempt}")
    assert {c for c, _, _, _ in simulated(html)} == {exempt}

    # The day matters: 14 days overdue reaches the 10-day rule, not the 15-day one.
    html = page(client, f"{SIMULAR}?data=2026-10-24&decisao=bloquear")
    assert [(c, r) for c, r, _, _ in simulated(html)] == [(late, rule10)]
    assert "14" in simulated(html)[0][3]

    # Nothing was written.
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Operation)) == before
        assert db.session.scalar(select(func.count()).select_from(ReguaRun)) == 0
    assert html.count("Executar agora") == 0  # leitura: no button


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "Data inválida"),
        ("amanhã", "Data inválida"),
        ("26-10-2026", "Data inválida"),
        ("1900-01-01", "até um ano antes ou depois de hoje"),
        ("9999-12-31", "até um ano antes ou depois de hoje"),
        ("2026-10-2%006", "Data inválida"),
    ],
)
def test_the_date_picker_refuses_nonsense_next_to_the_field_and_simulates_today(app, login_as, client, value, message):
    tv_rule(app, 15)
    login_as("leitura")
    html = page(client, f"{SIMULAR}?data={value}")
    error = re.search(r'id="data-error"[^>]*>(.*?)</div>', html, re.S)
    assert error and message in error[1] and "Simulado para hoje" in error[1]
    assert 'aria-invalid="true"' in html
    with app.app_context():
        assert f"{local_today():%d/%m/%Y} (hoje)" in html


def test_the_simulation_pages_by_contract_number(app, login_as, client, monkeypatch):
    tv_rule(app, 15)
    plan = ittv_plan(app)
    contracts = [
        billed_contract(app, plan, document=cpf, email=f"c{i}@example.com.br") for i, cpf in enumerate(CPFS[:5])
    ]
    monkeypatch.setattr("panel.configuracoes.views.regua.PAGE_SIZE", 2)
    login_as("leitura")
    seen, url = [], f"{SIMULAR}?data=2026-10-26"
    while url:
        html = page(client, url)
        seen.append([c for c, _, _, _ in simulated(html)])
        found = re.search(r'href="([^"]*depois=\d+[^"]*)"', html)
        url = found[1].replace("&amp;", "&") if found else None
        assert "data=2026-10-26" in (url or "data=2026-10-26")  # the day goes along
    assert seen == [contracts[:2], contracts[2:4], contracts[4:]]


# -- Executar agora ---------------------------------------------------------------------------------


def test_executar_agora_is_for_admins_and_runs_todays_regua_as_jobs(
    app, login_as, client, make_user, run_jobs, sandbox_for
):
    ittv = platform_at(app, sandbox_for("ittv"))
    rule_id = tv_rule(app, 15)
    contract_id = overdue_today(app, ittv.plan_id, 16)
    run_jobs()  # the subscriber exists at ITTV

    login_as("operador")
    html = page(client, SIMULAR)
    assert f'action="{EXECUTAR}"' not in html
    token = csrf_token_from(html)
    assert client.post(EXECUTAR, data={"csrf_token": token}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReguaRun)) == 0

    admin, admin_user = second_client(app, make_user, "admin")
    html = page(admin, SIMULAR)
    form = re.search(rf'<form method="post" action="{EXECUTAR}"[^>]*>', html)[0]
    assert "data-confirm=" in form and "Executar agora a régua de hoje" in form  # the shared dialog asks first
    [(blocked, _, decision, text)] = [line for line in simulated(html) if line[2] == "block"]
    assert blocked == contract_id and " 16 " in f" {text} "

    html = post_form(admin, SIMULAR, {}, EXECUTAR, follow_redirects=True).get_data(as_text=True)
    assert "Régua de hoje solicitada: 1 execução na fila." in flashes(html)
    progress = re.search(r'<div id="regua-progress"[^>]*>', html)[0]
    assert f'data-poll-url="{PROGRESSO}"' in progress and "data-reload-when-done" in progress
    with app.app_context():
        [run] = db.session.scalars(select(ReguaRun)).all()
        assert run.day == local_today() and run.trigger is ReguaTrigger.admin and run.rule_id == rule_id
        assert run.requested_by_name == admin_user.name and not run.status.finished
        run_id = run.id

    run_jobs()  # the run, then the block it asked for
    fragment = page(admin, PROGRESSO)
    assert "data-poll-url" not in fragment and "1 de 1" in text_of(fragment) and "1 concluída" in text_of(fragment)
    subscriber = subscription(app, contract_id)
    assert subscriber.desired_status == "blocked" and subscriber.blocked_by is BlockOrigin.regua
    assert subscriber.block_run_id == run_id and subscriber.remote_status == "blocked"
    [customer] = ittv.sandbox.records()
    assert customer["status"] == "INACTIVE"

    html = page(admin, SIMULAR)
    run_row = text_of(re.search(rf'data-testid="regua-run" data-run="{run_id}">(.*?)</tr>', html, re.S)[1])
    assert "Concluída" in run_row and "1 bloqueado · 0 desbloqueados · 0 ignorados" in run_row
    assert "Manual" in run_row and admin_user.name in run_row
    assert f'href="{OPERACOES}?execucao={run_id}"' in html
    assert "Já bloqueado" in text_of(html)  # the simulation now sees the block

    # The contract page says who blocked it.
    with app.app_context():
        title = db.session.get(ReguaRun, run_id).rule_title
        today = f"{local_today():%d/%m/%Y}"
    assert f"Bloqueado pela Régua ({title}) em {today}." in text_of(page(admin, CONTRACT_PAGE.format(contract_id)))

    # A second click: every rule already ran today.
    html = post_form(admin, SIMULAR, {}, EXECUTAR, follow_redirects=True).get_data(as_text=True)
    assert "Nada a executar" in flashes(html)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReguaRun)) == 1


def test_executar_agora_says_when_another_run_asked_at_the_same_moment(app, login_as, client, monkeypatch):
    tv_rule(app, 15)

    def raced(actor, trigger, day=None, **kwargs):
        raise regua.AlreadyRequested("A régua de hoje já foi pedida por outra execução.")

    monkeypatch.setattr(regua, "request_runs", raced)
    login_as("admin")
    html = post_form(client, SIMULAR, {}, EXECUTAR, follow_redirects=True).get_data(as_text=True)
    assert "já foi pedida por outra execução" in flashes(html)


# -- Operações of a run -----------------------------------------------------------------------------


def test_operacoes_filtered_by_a_run_lists_its_failures_first(app, login_as, client, runner):
    tv_rule(app, 15)
    plan = ittv_plan(app)
    contracts = [
        billed_contract(app, plan, document=cpf, email=f"c{i}@example.com.br") for i, cpf in enumerate(CPFS[:3])
    ]
    result = runner.invoke(args=["regua", "run", "--date", "2026-10-26"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        [run_id] = db.session.scalars(select(ReguaRun.id)).all()
        blocks = db.session.scalars(
            select(Operation).where(Operation.regua_run_id == run_id).order_by(Operation.id)
        ).all()
        assert sorted(op.subscription.contract_id for op in blocks) == contracts
        failed = blocks[1]
        failed.status, failed.last_error = "failed", "ITTV recusou: cliente não encontrado."
        block_ids, failed_id = [op.id for op in blocks], failed.id
        others = db.session.scalars(select(Operation.id).where(Operation.regua_run_id.is_(None))).all()
        assert others  # the syncs: not the run's
    login_as("leitura")

    html = page(client, f"{OPERACOES}?execucao={run_id}")
    assert "Pedidos da execução" in html and "Execução 0" not in html
    failures = re.search(r'data-testid="run-failures">(.*?)</section>', html, re.S)[1]
    assert [int(n) for n in re.findall(r'data-operation="(\d+)"', failures)] == [failed_id]
    assert "ITTV recusou: cliente não encontrado." in failures
    everything = re.search(r'data-testid="operations-list">(.*?)</section>', html, re.S)[1]
    assert [int(n) for n in re.findall(r'data-operation="(\d+)"', everything)] == block_ids[::-1]
    assert f'name="execucao" value="{run_id}"' in html  # the other filters keep the run

    html = page(client, f"{OPERACOES}?execucao={run_id}&situacao=concluidas")
    assert "run-failures" not in html and re.findall(r'data-operation="(\d+)"', html) == []
    # A run that does not exist, or no id: the page unfiltered.
    for bad in ("999999", "abc", "%00"):
        listed = {int(n) for n in re.findall(r'data-operation="(\d+)"', page(client, f"{OPERACOES}?execucao={bad}"))}
        assert listed == set(block_ids) | set(others)


# -- Financeiro → Títulos ---------------------------------------------------------------------------


def titulo(app, contract_id: int, month: str, due: date, amount: str, paid_on: date | None = None) -> int:
    """A título written straight to the table (any due date, paid or not)."""
    with app.app_context():
        invoice = Invoice(
            contract_id=contract_id,
            reference_month=date.fromisoformat(f"{month}-01"),
            due_date=due,
            amount=Decimal(amount),
            paid_on=paid_on,
            paid_amount=Decimal(amount) if paid_on else None,
            paid_by_name="Testes" if paid_on else None,
        )
        db.session.add(invoice)
        db.session.flush()
        return invoice.id


def listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-testid="title-row" data-invoice="(\d+)"', html)]


def totals(html: str) -> tuple[str, str]:
    return (
        re.search(r'data-testid="titles-count">(.*?)<', html)[1],
        re.search(r'data-testid="titles-sum">(.*?)<', html)[1],
    )


@pytest.fixture
def two_contracts(app):
    """An ITTV contract and a Skeelo one (other client, plan and platform), with no títulos."""
    tv_plan, sva_plan = ittv_plan(app), skeelo_plan(app)
    tv = make_contract(app, make_client(app, document=CPFS[0], name="Ana Televisão"), tv_plan)
    sva = make_contract(app, make_client(app, document=CNPJS[0], name="Livraria Ltda"), sva_plan)
    with app.app_context():
        today = local_today()
        platforms = {p.kind: p.id for p in db.session.scalars(select(Platform))}
    return {"tv": tv, "sva": sva, "tv_plan": tv_plan, "sva_plan": sva_plan, "today": today, "platforms": platforms}


def test_titulos_tabs_filters_and_totals(app, login_as, client, two_contracts):
    c, today = two_contracts, two_contracts["today"]
    day = timedelta(days=1)
    v40 = titulo(app, c["tv"], "2026-01", today - 40 * day, "10.00")
    v1 = titulo(app, c["tv"], "2026-02", today - day, "20.50")  # due yesterday: overdue
    a0 = titulo(app, c["tv"], "2026-03", today, "30.00")  # due today: not yet overdue
    v20 = titulo(app, c["sva"], "2026-01", today - 20 * day, "5.25")
    a10 = titulo(app, c["sva"], "2026-02", today + 10 * day, "7.00")
    p2 = titulo(app, c["sva"], "2026-03", today - 5 * day, "9.90", paid_on=today - 2 * day)
    p30 = titulo(app, c["tv"], "2026-04", today - 35 * day, "12.00", paid_on=today - 30 * day)
    login_as("leitura")

    html = page(client, f"{TITULOS}?aba=vencidos")
    assert listed(html) == [v40, v20, v1]  # the most overdue first
    assert totals(html) == ("3", "R$ 35,75")
    row = text_of(re.search(rf'data-invoice="{v40}"[^>]*>(.*?)</tr>', html, re.S)[1])
    for text in (f"Contrato {c['tv']}", "Ana Televisão", "529.982.247-25", "PlayHub TV", "01/2026", "R$ 10,00"):
        assert text in row, text
    assert f"{(today - 40 * day):%d/%m/%Y}" in row and " 40 " in f" {row} "
    assert "Baixar título" not in html  # leitura

    html = page(client, TITULOS)  # Em aberto, the first tab
    assert listed(html) == [a0, a10] and totals(html) == ("2", "R$ 37,00")
    html = page(client, f"{TITULOS}?aba=pagos")
    assert listed(html) == [p2, p30]  # the latest payment first
    assert totals(html) == ("2", "R$ 21,90") and "R$ 21,90" in re.search(r'titles-paid-sum">(.*?)<', html)[1]

    def vencidos(query: str) -> tuple[list[int], tuple[str, str]]:
        html = page(client, f"{TITULOS}?aba=vencidos&{query}")
        return listed(html), totals(html)

    assert vencidos("dias=20") == ([v40, v20], ("2", "R$ 15,25"))
    assert vencidos("dias=21") == ([v40], ("1", "R$ 10,00"))
    assert vencidos(f"plataforma={c['platforms']['skeelo']}") == ([v20], ("1", "R$ 5,25"))
    assert vencidos(f"plano={c['tv_plan']}") == ([v40, v1], ("2", "R$ 30,50"))
    frm, to = (today - 25 * day).isoformat(), (today - day).isoformat()
    assert vencidos(f"de={frm}&ate={to}") == ([v20, v1], ("2", "R$ 25,75"))
    assert vencidos(f"de={(today - 40 * day):%d/%m/%Y}&ate={(today - 40 * day):%d/%m/%Y}")[0] == [v40]
    html = page(client, f"{TITULOS}?aba=pagos&plano={c['sva_plan']}")
    assert listed(html) == [p2] and totals(html) == ("1", "R$ 9,90")

    # Nonsense is refused next to its field, and the list goes on without that filter.
    html = page(client, f"{TITULOS}?aba=vencidos&dias=abc&de=2026-13-01")
    assert listed(html) == [v40, v20, v1]
    assert 'id="dias-error"' in html and "Informe um número de dias" in html
    assert 'id="de-error"' in html and "Data inválida" in html
    html = page(client, f"{TITULOS}?aba=vencidos&de={to}&ate={frm}")
    assert "A data final é anterior à inicial." in html and listed(html) == [v1]


def test_the_titulos_boundary_is_the_operators_day_not_utcs(app, make_app, make_user, two_contracts):
    """Vencido means due before the operators' today. Two zones 26 hours apart are never on the
    same date, so one of them is on another date than UTC right now: titles due on its yesterday
    and today fall in Vencidos and Em aberto by its date."""
    utc_today = datetime.now(ZoneInfo("UTC")).date()
    zone = next(name for name in ("Etc/GMT+12", "Etc/GMT-14") if datetime.now(ZoneInfo(name)).date() != utc_today)
    local_day = datetime.now(ZoneInfo(zone)).date()
    yesterday = titulo(app, two_contracts["tv"], "2026-01", local_day - timedelta(days=1), "10.00")
    today = titulo(app, two_contracts["tv"], "2026-02", local_day, "20.00")
    other = make_app(DISPLAY_TIMEZONE=zone)
    browser = other.test_client()
    assert AuthActions(browser).login(make_user("leitura").username).status_code == 302
    assert listed(page(browser, f"{TITULOS}?aba=vencidos")) == [yesterday]
    assert listed(page(browser, f"{TITULOS}?aba=abertos")) == [today]


def test_titulos_pages_follow_by_keyset_without_overlap(app, login_as, client, two_contracts, monkeypatch):
    c, today = two_contracts, two_contracts["today"]
    same_day = today - timedelta(days=3)
    overdue = [
        titulo(app, c["tv"], "2026-01", today - timedelta(days=9), "1.00"),
        titulo(app, c["sva"], "2026-01", same_day, "2.00"),  # three on one day: their ids decide
        titulo(app, c["tv"], "2026-02", same_day, "3.00"),
        titulo(app, c["sva"], "2026-02", same_day, "4.00"),
        titulo(app, c["tv"], "2026-03", today - timedelta(days=1), "5.00"),
    ]
    paid = [
        titulo(app, c["tv"], f"2025-{m:02d}", today - timedelta(days=60), "6.00", paid_on=today - timedelta(days=m))
        for m in (1, 2, 3)
    ]
    monkeypatch.setattr("panel.painel_cliente.views.titles.PAGE_SIZE", 2)
    login_as("leitura")

    def walk(url: str) -> list[list[int]]:
        pages = []
        while url:
            html = page(client, url)
            pages.append(listed(html))
            assert totals(html)[0] == str(len(overdue) if "vencidos" in url else len(paid))  # the whole filter
            found = re.search(r'href="([^"]*depois=\d+[^"]*)"', html)
            url = found[1].replace("&amp;", "&") if found else None
        return pages

    assert walk(f"{TITULOS}?aba=vencidos") == [overdue[:2], overdue[2:4], overdue[4:]]
    assert walk(f"{TITULOS}?aba=pagos") == [paid[:2], paid[2:]]
    # A key that names no título: the first page.
    assert listed(page(client, f"{TITULOS}?aba=vencidos&depois=999999")) == overdue[:2]


def test_baixar_titulo_from_the_row_comes_back_to_the_list(app, login_as, client, two_contracts):
    today = two_contracts["today"]
    invoice_id = titulo(app, two_contracts["tv"], "2026-01", today - timedelta(days=3), "39.90")
    login_as("operador")
    list_url = f"{TITULOS}?aba=vencidos"
    html = page(client, list_url)
    link = re.search(rf'href="(/financeiro/painel-do-cliente/titulos/{invoice_id}/baixar\?voltar=[^"]+)"', html)
    pay_url = link[1].replace("&amp;", "&")
    response = post_form(client, pay_url, {"paid_on": today.isoformat(), "paid_amount": "39,90"})
    assert response.status_code == 302 and response.headers["Location"] == list_url
    html = page(client, list_url)
    assert "Título 01/2026 baixado." in flashes(html) and listed(html) == []
    assert listed(page(client, f"{TITULOS}?aba=pagos")) == [invoice_id]
    # A way back that leaves the site is not followed.
    other = titulo(app, two_contracts["sva"], "2026-01", today - timedelta(days=3), "9.90")
    response = post_form(
        client,
        f"/financeiro/painel-do-cliente/titulos/{other}/baixar?voltar=https://evil.example/",
        {"paid_on": today.isoformat(), "paid_amount": "9,90"},
    )
    assert response.headers["Location"].startswith(f"/financeiro/painel-do-cliente/contratos/{two_contracts['sva']}")


def test_estornar_baixa_is_for_admins_asks_a_reason_and_writes_the_history(
    app, login_as, client, make_user, two_contracts
):
    today = two_contracts["today"]
    invoice_id = titulo(
        app, two_contracts["tv"], "2026-01", today - timedelta(days=9), "39.90", today - timedelta(days=2)
    )
    reverse_url = f"/financeiro/painel-do-cliente/titulos/{invoice_id}/estornar"
    login_as("operador")
    html = page(client, f"{TITULOS}?aba=pagos")
    assert listed(html) == [invoice_id] and "Estornar baixa" not in html
    assert client.get(reverse_url).status_code == 403
    token = csrf_token_from(html)
    assert client.post(reverse_url, data={"reason": "x", "csrf_token": token}).status_code == 403

    admin, _ = second_client(app, make_user, "admin")
    list_url = f"{TITULOS}?aba=pagos"
    html = page(admin, list_url)
    link = re.search(rf'href="({reverse_url}\?voltar=[^"]+)"', html)[1].replace("&amp;", "&")
    form_page = page(admin, link)
    assert re.search(r"<form[^>]*data-confirm=\"Estornar a baixa do título 01/2026", form_page)
    response = post_form(admin, link, {"reason": "   "})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="reason-error"' in body and "Informe o motivo do estorno." in body
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).paid
    response = post_form(admin, link, {"reason": "Cheque devolvido"})
    assert response.status_code == 302 and response.headers["Location"] == list_url
    assert "estornada" in flashes(page(admin, list_url))
    with app.app_context():
        assert not db.session.get(Invoice, invoice_id).paid
    actor, asked, _ = history(app, two_contracts["tv"])[-1]
    assert (
        asked.startswith("Baixa do título 01/2026 estornada (R$ 39,90 pago em") and "Motivo: Cheque devolvido" in asked
    )
    assert listed(page(admin, f"{TITULOS}?aba=vencidos")) == [invoice_id]


# -- The contract page ------------------------------------------------------------------------------


def test_the_exemption_box_on_the_contract_page(app, login_as, client, make_user):
    tv_rule(app, 15)
    contract_id = overdue_today(app, ittv_plan(app), 16)
    url = CONTRACT_PAGE.format(contract_id)
    post_url = f"{url}/isencao"
    with app.app_context():
        today = local_today()
    until = today + timedelta(days=10)

    login_as("leitura")
    html = page(client, url)
    assert 'data-testid="exemption-form"' not in html and "Sem isenção" in html
    assert f'href="{SIMULAR}?contrato={contract_id}"' in html
    token = csrf_token_from(html)
    refused = client.post(post_url, data={"until": until.isoformat(), "reason": "x", "csrf_token": token})
    assert refused.status_code == 403

    operador, _ = second_client(app, make_user, "operador")
    # A day in the past: refused next to the field, what was typed kept.
    response = post_form(
        operador, url, {"until": (today - timedelta(days=1)).isoformat(), "reason": "Negociando"}, post_url
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="until-error">A data já passou', body) and 'value="Negociando"' in body
    response = post_form(operador, url, {"until": until.isoformat(), "reason": ""}, post_url)
    assert 'id="reason-error">Informe o motivo' in response.get_data(as_text=True)

    response = post_form(operador, url, {"until": until.isoformat(), "reason": "Cliente negociando"}, post_url)
    assert response.status_code == 302
    html = page(operador, url)
    box = text_of(re.search(r'data-testid="exemption">(.*?)</p>', html, re.S)[1])
    assert box.startswith("Isento A régua não bloqueia este contrato até") and box.endswith(
        "Motivo: Cliente negociando"
    )
    assert f"{until:%d/%m/%Y}" in box
    assert f'value="{until.isoformat()}"' in html and 'value="Cliente negociando"' in html  # ready to change
    assert f"Régua: não bloquear até {until:%d/%m/%Y}. Motivo: Cliente negociando" in history(app, contract_id)[-1][1]

    # The simulation skips it, saying why.
    [(_, _, decision, text)] = simulated(page(operador, f"{SIMULAR}?contrato={contract_id}"))
    assert decision == "skip" and f"Isento até {until:%d/%m/%Y}: Cliente negociando" in text

    # Retirar isenção.
    response = post_form(operador, url, {}, f"{url}/isencao/retirar")
    assert response.status_code == 302
    assert "Sem isenção" in page(operador, url)
    [(_, _, decision, _)] = simulated(page(operador, f"{SIMULAR}?contrato={contract_id}"))
    assert decision == "block"


def test_the_contract_page_says_who_blocked_the_subscriber(app, login_as, client, runner):
    tv_rule(app, 15)
    plan = ittv_plan(app)
    by_regua = billed_contract(app, plan)
    by_operator = billed_contract(app, plan, document=CPFS[1], email="op@example.com.br", months=())
    act(app, by_operator, "block")
    assert runner.invoke(args=["regua", "run", "--date", "2026-10-26"]).exit_code == 0
    with app.app_context():
        title = db.session.scalars(select(ReguaRun.rule_title)).one()
    login_as("leitura")
    note = text_of(
        re.search(r'data-testid="access-note">(.*?)</div>', page(client, CONTRACT_PAGE.format(by_regua)), re.S)[1]
    )
    assert f"Bloqueado pela Régua ({title}) em 26/10/2026." in note and "A baixa do título em atraso libera" in note
    note = text_of(
        re.search(r'data-testid="access-note">(.*?)</div>', page(client, CONTRACT_PAGE.format(by_operator)), re.S)[1]
    )
    assert "Bloqueado por um operador." in note and "Régua" not in note


# -- Hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\x00b", "٣", str(2**31), "9" * 23, "-1", "%", "x" * 3000, "0001-01-01"])
def test_hostile_filters_of_the_new_pages_answer_a_page(app, login_as, client, two_contracts, value):
    """Every parameter these pages read, on every tab (Vencidos has one more field than
    test_bad_input sees on the default tab)."""
    titulo(app, two_contracts["tv"], "2026-01", two_contracts["today"] - timedelta(days=3), "1.00")
    tv_rule(app, 15)
    login_as("admin")
    names = ("aba", "de", "ate", "dias", "plataforma", "plano", "depois", "data", "regra", "decisao", "contrato")
    for base in (f"{TITULOS}?aba=abertos", f"{TITULOS}?aba=vencidos", f"{TITULOS}?aba=pagos", f"{SIMULAR}?"):
        query = "&".join(f"{name}={quote(value, safe='')}" for name in names if name != "aba" or "aba" not in base)
        response = client.get(f"{base}&{query}")
        assert response.status_code == 200, (base, value)
    response = client.get(f"{OPERACOES}?execucao={quote(value, safe='')}")
    assert response.status_code == 200


def test_a_reason_with_control_characters_is_refused_next_to_its_field(app, login_as, client, two_contracts):
    today = two_contracts["today"]
    invoice_id = titulo(app, two_contracts["tv"], "2026-01", today - timedelta(days=9), "39.90", today)
    login_as("admin")
    reverse_url = f"/financeiro/painel-do-cliente/titulos/{invoice_id}/estornar"
    body = post_form(client, reverse_url, {"reason": "Jo\x00ão"}).get_data(as_text=True)
    assert 'id="reason-error"' in body and "caracteres de controle" in body
    url = CONTRACT_PAGE.format(two_contracts["tv"])
    body = post_form(
        client, url, {"until": (today + timedelta(days=3)).isoformat(), "reason": "a\x1bb"}, f"{url}/isencao"
    ).get_data(as_text=True)
    assert 'id="reason-error"' in body and "caracteres de controle" in body
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).paid
        assert db.session.get(Contract, two_contracts["tv"]).exempt_until is None


# -- Menus ------------------------------------------------------------------------------------------


def test_the_menus_link_titulos_and_simular_regua(app, login_as, client):
    login_as("leitura")
    html = page(client, "/")
    assert f'href="{TITULOS}"' in html and f'href="{SIMULAR}"' in html
    assert f'href="{SIMULAR}"' in page(client, "/configuracoes/reguas")
    assert f'href="{SIMULAR}"' in page(client, TITULOS)
