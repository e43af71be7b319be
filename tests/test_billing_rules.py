"""Configurações → Financeiro → Réguas de Configuração (the rules; running them is another issue)."""

from __future__ import annotations

import pytest

from panel.extensions import db
from panel.models import AuditEvent, BillingRule
from tests.conftest import csrf_token_from, post_form
from tests.factories import ITTV_PRODUCTS, SKEELO_PRODUCTS, make_platform

NEW = "/configuracoes/reguas/nova"


def rule_form(**changes) -> dict:
    return {
        "rule_type": "connection_maintenance",
        "days_overdue": "15",
        "action": "tv_block",
        "platform_id": "",
        "unblock_on_payment": "y",
        "active": "y",
        "description": "",
        **changes,
    }


def test_admin_creates_the_seed_rule_and_sees_it_listed(app, login_as, client):
    ittv_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    form = client.get(NEW).get_data(as_text=True)
    assert "Manutenção de conexão" in form and "Bloqueio de TV" in form and "Bloqueio parcial de TV" in form
    assert "Bloqueio SVA" in form and "ITTV demo" in form

    response = post_form(client, NEW, rule_form(platform_id=str(ittv_id)))
    assert response.status_code == 302 and response.headers["Location"] == "/configuracoes/reguas"
    listing = client.get("/configuracoes/reguas").get_data(as_text=True)
    assert "Bloqueio de TV após 15 dias em atraso" in listing and "ITTV demo" in listing
    with app.app_context():
        rule = db.session.scalars(db.select(BillingRule)).one()
        assert (
            rule.rule_type,
            rule.days_overdue,
            rule.action,
            rule.platform_id,
            rule.unblock_on_payment,
            rule.active,
        ) == ("connection_maintenance", 15, "tv_block", ittv_id, True, True)
        assert rule.action.access_status == "blocked" and rule.action.plan_type == "tv_ott"
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "billing_rule.created")).one()
        assert event.changes["days_overdue"] == [None, 15] and event.changes["platform"] == [None, "ITTV"]


def test_a_rule_for_every_platform_of_its_kind(app, login_as, client):
    make_platform(app, "skeelo", SKEELO_PRODUCTS)
    login_as("admin")
    post_form(client, NEW, rule_form(action="sva_block", days_overdue="30", unblock_on_payment=""))
    listing = client.get("/configuracoes/reguas").get_data(as_text=True)
    assert "Todos os fornecedores (SVA)" in listing
    with app.app_context():
        rule = db.session.scalars(db.select(BillingRule)).one()
        assert rule.platform_id is None and not rule.unblock_on_payment


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days_overdue": "0"}, "Informe de 1 a 365 dias."),
        ({"days_overdue": ""}, "Informe os dias em atraso."),
        ({"action": "explodir"}, "Escolha inválida"),
        ({"action": "sva_block", "platform_id": "ITTV"}, "Bloqueio SVA não se aplica a ITTV demo."),
        ({"action": "tv_partial_block", "platform_id": "SKEELO"}, "não se aplica a SKEELO demo"),
    ],
)
def test_bad_rules_are_refused_next_to_the_field(changes, message, app, login_as, client):
    ids = {"ITTV": make_platform(app, "ittv", ITTV_PRODUCTS), "SKEELO": make_platform(app, "skeelo", SKEELO_PRODUCTS)}
    if changes.get("platform_id") in ids:
        changes = {**changes, "platform_id": str(ids[changes["platform_id"]])}
    login_as("admin")
    response = post_form(client, NEW, rule_form(**changes, description="Minha régua"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html and 'value="Minha régua"' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(BillingRule)) == 0


def test_the_same_active_rule_twice_is_refused_but_an_inactive_copy_is_fine(app, login_as, client):
    login_as("admin")
    assert post_form(client, NEW, rule_form()).status_code == 302
    again = post_form(client, NEW, rule_form(description="De novo"))
    assert "Já existe uma régua ativa com esta ação" in again.get_data(as_text=True)
    assert post_form(client, NEW, rule_form(active="")).status_code == 302


def test_editing_and_removing_a_rule_is_audited(app, login_as, client):
    login_as("admin")
    post_form(client, NEW, rule_form())
    with app.app_context():
        rule_id = db.session.scalar(db.select(BillingRule.id))
    edit = f"/configuracoes/reguas/{rule_id}/editar"
    assert 'value="15"' in client.get(edit).get_data(as_text=True)
    assert post_form(client, edit, rule_form(days_overdue="20", description="Bloqueio em 20 dias")).status_code == 302
    post_form(client, "/configuracoes/reguas", {}, post_url=f"/configuracoes/reguas/{rule_id}/remover")
    with app.app_context():
        assert db.session.get(BillingRule, rule_id) is None
        events = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action.like("billing_rule.%")).order_by(AuditEvent.id)
        ).all()
        assert [e.action for e in events] == ["billing_rule.created", "billing_rule.updated", "billing_rule.deleted"]
        assert events[1].changes["days_overdue"] == [15, 20]
    log = client.get("/configuracoes/auditoria").get_data(as_text=True)
    assert "Dias em atraso" in log and "Bloqueio de TV" in log


def test_leitura_reads_the_rules_but_cannot_change_them(app, login_as, client, make_user):
    login_as("admin")
    post_form(client, NEW, rule_form())
    with app.app_context():
        rule_id = db.session.scalar(db.select(BillingRule.id))
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    login_as("leitura")
    listing = client.get("/configuracoes/reguas").get_data(as_text=True)
    assert "Bloqueio de TV" in listing and "Nova régua" not in listing and "Editar" not in listing
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    for url in (NEW, f"/configuracoes/reguas/{rule_id}/editar", f"/configuracoes/reguas/{rule_id}/remover"):
        assert client.post(url, data={**rule_form(), "csrf_token": token}).status_code == 403
    assert client.get(NEW).status_code == 403


def test_a_rule_without_a_description_is_described_by_its_action_and_days_even_after_an_edit(app, login_as, client):
    login_as("admin")
    post_form(client, NEW, rule_form())
    with app.app_context():
        rule_id = db.session.scalar(db.select(BillingRule.id))
    edit = f"/configuracoes/reguas/{rule_id}/editar"
    assert 'name="description" type="text" value=""' in client.get(edit).get_data(as_text=True)
    post_form(client, edit, rule_form(days_overdue="20"))
    listing = client.get("/configuracoes/reguas").get_data(as_text=True)
    assert "Bloqueio de TV após 20 dias em atraso" in listing and "após 15 dias" not in listing
