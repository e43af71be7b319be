"""Integradores → *Conciliação* through the pages: admin acts, leitura reads (and a forged POST is
refused), the summary and the differences, the confirmation pages, the CSV."""

from __future__ import annotations

import csv
import io

import pytest
from validate_docbr import CPF

from panel.extensions import db
from panel.models import AuditEvent, ReconciliationDifference, ReconciliationRun
from tests.conftest import csrf_token_from, post_form
from tests.factories import CPFS, make_client, make_contract
from tests.provisioning import act, history, platform_at, subscription
from tests.test_reconciliation import edit, record_of, unknown_account


@pytest.fixture
def skeelo_drift(app, sandbox_for, run_jobs):
    """A Skeelo subscriber blocked at the platform by hand, and an unknown account there."""
    setup = platform_at(app, sandbox_for("skeelo"))
    contract_id = setup.contract(app, document=CPFS[0], name="Maria da Silva")
    act(app, contract_id, "sync")
    run_jobs()
    edit(app, setup.sandbox, contract_id, status="inactive")
    unknown = CPF().generate()
    unknown_account(setup.sandbox, unknown)
    return setup, contract_id, unknown


def page_url(setup) -> str:
    return f"/integradores/conciliacao/{setup.platform_id}"


def reconcile_now(client, setup, run_jobs):
    response = post_form(client, page_url(setup), {}, f"{page_url(setup)}/conciliar")
    assert response.status_code == 302
    run_jobs()


def differences(app) -> dict[str, int]:
    with app.app_context():
        return {row.kind.value: row.id for row in db.session.scalars(db.select(ReconciliationDifference))}


def test_admin_reconciles_now_and_sees_each_difference(app, client, login_as, skeelo_drift, run_jobs):
    setup, contract_id, unknown = skeelo_drift
    login_as("admin")
    assert "Nenhuma conciliação terminada" in client.get(page_url(setup)).get_data(as_text=True)
    response = post_form(client, page_url(setup), {}, f"{page_url(setup)}/conciliar")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Conciliação com" in page and 'data-testid="reconciliation-progress-text"' in page
    with app.app_context():
        [run] = db.session.scalars(db.select(ReconciliationRun))
        assert run.trigger == "admin" and run.requested_by_name.startswith("Admin")
    run_jobs()
    page = client.get(page_url(setup)).get_data(as_text=True)
    assert 'data-testid="count-blocked_there">1<' in page and 'data-testid="count-unknown">1<' in page
    assert f"Contrato {contract_id}" in page and "Maria da Silva" in page
    assert f"{unknown[:3]}.{unknown[3:6]}.{unknown[6:9]}-{unknown[9:]}" in page  # formatted as everywhere
    only_unknown = client.get(f"{page_url(setup)}?tipo=unknown").get_data(as_text=True)
    assert "Vincular" in only_unknown and "Maria da Silva" not in only_unknown
    searched = client.get(f"{page_url(setup)}?q=Maria").get_data(as_text=True)
    assert "Maria da Silva" in searched and "Conta Manual" not in searched
    index = client.get("/integradores/conciliacao").get_data(as_text=True)
    assert setup.sandbox.kind.upper() in index.upper()


def test_corrigir_and_aceitar_from_the_page(app, client, login_as, skeelo_drift, run_jobs):
    setup, contract_id, _unknown = skeelo_drift
    login_as("admin")
    reconcile_now(client, setup, run_jobs)
    drift = differences(app)["blocked_there"]
    accept_url = f"{page_url(setup)}/aceitar?diferencas={drift}"
    page = client.get(accept_url).get_data(as_text=True)
    assert "Motivo" in page and "Maria da Silva" in page
    refused = post_form(client, accept_url, {"diferencas": drift, "reason": " "}, f"{page_url(setup)}/aceitar")
    assert refused.status_code == 200 and "Informe o motivo" in refused.get_data(as_text=True)
    accepted = post_form(
        client, accept_url, {"diferencas": drift, "reason": "Bloqueio pedido no portal"}, f"{page_url(setup)}/aceitar"
    )
    assert accepted.status_code == 302
    assert subscription(app, contract_id).desired_status == "blocked"
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "contract.reconciliation_accept"))
    # The platform is changed by hand again; this time the operator corrects it.
    edit(app, setup.sandbox, contract_id, status="active")
    reconcile_now(client, setup, run_jobs)
    drift = max(d for k, d in differences(app).items() if k == "active_there")
    corrected = post_form(client, page_url(setup), {"diferencas": drift}, f"{page_url(setup)}/corrigir")
    assert corrected.status_code == 302
    follow = client.get(corrected.headers["Location"]).get_data(as_text=True)
    assert "1 diferença corrigida" in follow
    run_jobs()
    assert record_of(app, setup.sandbox, contract_id)["status"] == "inactive"
    assert any(asked.startswith("Conciliação: ativo lá") for _actor, asked, _answer in history(app, contract_id))


def test_the_bulk_bar_sends_aceitar_to_its_confirmation_page(app, client, login_as, skeelo_drift, run_jobs):
    setup, _contract_id, _unknown = skeelo_drift
    login_as("admin")
    reconcile_now(client, setup, run_jobs)
    drift = differences(app)["blocked_there"]
    bulk_url = f"{page_url(setup)}/em-lote"
    response = post_form(client, page_url(setup), {"acao": "aceitar", "diferencas": drift}, bulk_url)
    assert response.status_code == 302 and f"/aceitar?diferencas={drift}" in response.headers["Location"]
    nothing = post_form(client, page_url(setup), {"acao": "corrigir"}, f"{page_url(setup)}/em-lote")
    assert "Marque ao menos uma" in client.get(nothing.headers["Location"]).get_data(as_text=True)
    bad = post_form(client, page_url(setup), {"acao": "corrigir", "diferencas": "x"}, f"{page_url(setup)}/em-lote")
    assert bad.status_code == 400


def test_vincular_from_the_page(app, client, login_as, skeelo_drift, run_jobs):
    setup, _contract_id, unknown = skeelo_drift
    login_as("admin")
    reconcile_now(client, setup, run_jobs)
    owner = make_contract(app, make_client(app, document=unknown, email="dono@example.com.br"), setup.plan_id)
    link_url = f"/integradores/conciliacao/diferencas/{differences(app)['unknown']}/vincular"
    page = client.get(link_url).get_data(as_text=True)
    assert f"Contrato {owner}" in page
    empty = post_form(client, link_url, {"contract_id": ""})
    assert empty.status_code == 200 and "Escolha o contrato" in empty.get_data(as_text=True)
    linked = post_form(client, link_url, {"contract_id": owner})
    assert linked.status_code == 302
    run_jobs()
    assert subscription(app, owner).remote_status == "active"


def test_leitura_reads_without_buttons_and_a_forged_post_is_refused(app, client, login_as, skeelo_drift, run_jobs):
    setup, contract_id, _unknown = skeelo_drift
    login_as("admin")
    reconcile_now(client, setup, run_jobs)
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    login_as("leitura")
    page = client.get(page_url(setup)).get_data(as_text=True)
    assert "Maria da Silva" in page
    assert 'data-testid="reconcile-now"' not in page and "Corrigir" not in page and "Vincular" not in page
    token = csrf_token_from(client.get("/conta/senha").get_data(as_text=True))
    drift = differences(app)["blocked_there"]
    for url, data in (
        (f"{page_url(setup)}/conciliar", {}),
        (f"{page_url(setup)}/corrigir", {"diferencas": drift}),
        (f"{page_url(setup)}/em-lote", {"acao": "corrigir", "diferencas": drift}),
        (f"{page_url(setup)}/aceitar", {"diferencas": drift, "reason": "x"}),
        (f"/integradores/conciliacao/diferencas/{differences(app)['unknown']}/vincular", {"contract_id": contract_id}),
    ):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert client.get(f"{page_url(setup)}/aceitar?diferencas={drift}").status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ReconciliationRun)) == 1
        assert all(row.resolution is None for row in db.session.scalars(db.select(ReconciliationDifference)))


def test_the_differences_export_to_csv_as_on_the_page(app, client, login_as, skeelo_drift, run_jobs):
    setup, contract_id, unknown = skeelo_drift
    login_as("admin")
    reconcile_now(client, setup, run_jobs)
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    login_as("leitura")  # the page's role reads the file too
    response = client.get(f"{page_url(setup)}/diferencas.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:5] == ["Diferença", "Tipo", "Contrato", "Nome", "CPF/CNPJ"]
    by_kind = {row[1]: row for row in rows[1:]}
    assert by_kind["Bloqueado lá, ativo aqui"][2] == str(contract_id)
    assert by_kind["Desconhecido"][4] == f"{unknown[:3]}.{unknown[3:6]}.{unknown[6:9]}-{unknown[9:]}"
    only = client.get(f"{page_url(setup)}/diferencas.csv?tipo=unknown").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(only[1:]), delimiter=";"))) == 2


def test_the_home_partial_renders_the_last_runs(app, client, login_as, skeelo_drift, run_jobs):
    from flask import render_template

    from panel.domain import reconciliation

    setup, _contract_id, _unknown = skeelo_drift
    login_as("admin")
    reconcile_now(client, setup, run_jobs)
    with app.test_request_context():
        html = render_template("main/_reconciliation_summary.html", reconciliation_runs=reconciliation.last_runs())
    assert "2 diferenças" in html and "Desconhecido: 1" in html and "tipo=unknown" in html


def test_corrigir_automaticamente_is_a_checkbox_of_the_platform_form(app, client, login_as, sandbox_for):
    from panel.models import Platform

    setup = platform_at(app, sandbox_for("skeelo"))
    login_as("admin")
    edit = f"/configuracoes/plataformas/{setup.platform_id}/editar"
    assert 'name="auto_correct"' in client.get(edit).get_data(as_text=True)
    with app.app_context():
        platform = db.session.get(Platform, setup.platform_id)
        fields = {"code": platform.code, "name": platform.name, "server_url": platform.server_url}
        assert platform.auto_correct is False  # off by default
    saved = post_form(
        client, edit, {**fields, "token": "", "concurrency_limit": "4", "active": "y", "auto_correct": "y"}
    )
    assert saved.status_code == 302
    detail = client.get(f"/configuracoes/plataformas/{setup.platform_id}").get_data(as_text=True)
    assert "Corrigir automaticamente" in detail
    with app.app_context():
        assert db.session.get(Platform, setup.platform_id).auto_correct is True
        assert db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "platform.updated").order_by(AuditEvent.id.desc()).limit(1)
        ).changes["auto_correct"] == [False, True]
