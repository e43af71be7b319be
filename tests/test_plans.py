"""Configurações → Planos de acesso: *Adicionar plano* step by step as the ERP does it, the
fiscal composition that must add up, the platform rules, and what editing may change."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from panel.domain import plans as plans_domain
from panel.extensions import db
from panel.models import AuditEvent, Plan, Product
from tests.conftest import post_form
from tests.factories import ITTV_PRODUCTS, SKEELO_PRODUCTS, make_plan_in_db, make_platform, product_ids
from tests.html_forms import submit

NEW = "/configuracoes/planos/novo"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


class Wizard:
    """Walks *Adicionar plano* like a browser: each step's page is submitted with its fields."""

    def __init__(self, client, url: str = NEW):
        self.client, self.url = client, url
        self.html = client.get(url).get_data(as_text=True)
        self.step = 1

    def _marker(self) -> str:
        match = re.search(r'data-testid="(plan-step-\d)"', self.html)
        assert match, "no wizard form on the page"
        return match.group(1)

    def press(self, action: str = "next", **changes):
        response = submit(self.client, self.url, self.html, changes, marker=self._marker(), action=action)
        self.response = response
        self.html = response.get_data(as_text=True)
        return response

    def next(self, **changes):
        response = self.press("next", **changes)
        assert response.status_code == 200, response.status_code
        return self

    @property
    def shown_step(self) -> int:
        return int(self._marker()[-1])


def composition(**lines) -> dict:
    """composition(SCM=("percent", "60"), SVA=("value", "15,96")) -> the step-2 fields."""
    order = ["SCM", "SVA", "TV"]
    data = {}
    for index, service in enumerate(order):
        mode, amount = lines.get(service, ("percent", ""))
        data[f"composition-{index}-mode"] = mode
        data[f"composition-{index}-amount"] = amount
    return data


def test_admin_adds_a_tv_ott_plan_step_by_step(app, login_as, client):
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client)
    assert wizard.shown_step == 1 and "TV/OTT" in wizard.html and "SVA" in wizard.html

    wizard.next(name="PlayHub 12 meses", plan_type="tv_ott")
    assert wizard.shown_step == 2
    wizard.next(
        contract_months="12", monthly_value="39,90", **composition(SCM=("percent", "60"), SVA=("value", "15,96"))
    )
    assert wizard.shown_step == 3
    assert "PLAYHUB-PREMIUM" in wizard.html
    basico, premium = product_ids(app, "PLAYHUB-BASICO", "PLAYHUB-PREMIUM")
    wizard.next(platform_id=str(platform_id), product_ids=[basico, premium])
    assert wizard.shown_step == 4
    review = text_of(wizard.html)
    assert "PlayHub 12 meses" in review and "R$ 39,90" in review
    assert "SCM 60% R$ 23,94" in review and "SVA R$ 15,96 R$ 15,96" in review
    assert "PLAYHUB-BASICO PlayHub Básico Base" in review

    response = wizard.press("efetivar")
    assert response.status_code == 302
    with app.app_context():
        plan = db.session.scalars(db.select(Plan)).one()
        assert (plan.name, plan.plan_type, plan.contract_months, plan.monthly_value) == (
            "PlayHub 12 meses",
            "tv_ott",
            12,
            Decimal("39.90"),
        )
        assert [(c.service, c.mode, c.amount) for c in plan.composition] == [
            ("SCM", "percent", Decimal(60)),
            ("SVA", "value", Decimal("15.96")),
        ]
        assert {p.code for p in plan.products} == {"PLAYHUB-BASICO", "PLAYHUB-PREMIUM"}
        assert plans_domain.plan_products(plan).base_codes == ("PLAYHUB-BASICO",)
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "plan.created")).one()
        assert event.changes["monthly_value"] == [None, "R$ 39,90"]
        assert event.changes["composition"] == [None, ["SCM 60%", "SVA R$ 15,96"]]
        plan_id = plan.id
    detail = text_of(client.get(f"/configuracoes/planos/{plan_id}").get_data(as_text=True))
    assert "Plano PlayHub 12 meses cadastrado." in detail and "Total R$ 39,90" in detail
    listing = text_of(client.get("/configuracoes/planos").get_data(as_text=True))
    assert "PlayHub 12 meses TV/OTT ITTV demo 12 R$ 39,90 SCM 60% · SVA R$ 15,96" in listing


def test_admin_adds_an_sva_plan_with_a_supplier(app, login_as, client):
    platform_id = make_platform(app, "skeelo", SKEELO_PRODUCTS)
    make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client).next(name="Skeelo Ebooks", plan_type="sva")
    wizard.next(contract_months="12", monthly_value="9,90", **composition(SVA=("percent", "100")))
    # Only suppliers are offered for an SVA plan, and being the only one it comes chosen.
    assert "SKEELO demo" in wizard.html and "ITTV demo" not in wizard.html
    ebooks, audio = product_ids(app, "SKEELO-EBOOKS", "SKEELO-AUDIOBOOKS")
    wizard.next(product_ids=[ebooks, audio])
    assert wizard.shown_step == 4
    assert wizard.press("efetivar").status_code == 302
    with app.app_context():
        plan = db.session.scalars(db.select(Plan)).one()
        assert plan.platform_id == platform_id and plan.plan_type == "sva"
        assert plans_domain.plan_products(plan).codes == ("SKEELO-AUDIOBOOKS", "SKEELO-EBOOKS")


def test_a_composition_that_does_not_add_up_is_refused_next_to_it_keeping_what_was_typed(app, login_as, client):
    make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client).next(name="TV", plan_type="tv_ott")
    wizard.next(
        contract_months="12", monthly_value="39,90", **composition(SCM=("percent", "60"), SVA=("percent", "39,99"))
    )
    assert wizard.shown_step == 2
    assert "As porcentagens somam 99,99%; devem somar exatamente 100% do valor mensal (R$ 39,90)." in wizard.html
    assert 'value="39,99"' in wizard.html and 'value="39,90"' in wizard.html

    wizard.next(**composition(SCM=("value", "29,90"), SVA=("value", "9,99")))
    assert "A composição soma R$ 39,89; faltam R$ 0,01 para o valor mensal de R$ 39,90." in text_of(wizard.html)
    wizard.next(**composition(SCM=("value", "29,90"), SVA=("value", "10")))
    assert wizard.shown_step == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"monthly_value": "abc"}, "Número inválido"),
        ({"monthly_value": ""}, "Informe o valor mensal."),
        ({"monthly_value": "0"}, "O valor mensal deve ser maior que zero."),
        ({"monthly_value": "39,901"}, "Use no máximo 2 casas decimais"),
        ({"contract_months": "0"}, "Informe de 1 a 120 meses."),
        ({"contract_months": "doze"}, "inteiro"),
        ({**composition()}, "Informe a composição fiscal"),
        ({**composition(SCM=("percent", "100,00001"))}, "no máximo 4 casas decimais"),
        ({**composition(SCM=("percent", "-5"))}, "deve ser maior que zero"),
        ({**composition(SCM=("value", "50"))}, "Os valores em R$ somam R$ 50,00, mais que o valor mensal de R$ 39,90."),
    ],
)
def test_step_two_refuses_bad_values_in_portuguese(fields, message, app, login_as, client):
    make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client).next(name="TV", plan_type="tv_ott")
    values = {"contract_months": "12", "monthly_value": "39,90", **composition(SCM=("percent", "100")), **fields}
    wizard.next(**values)
    assert wizard.shown_step == 2 and message in wizard.html


def test_step_one_needs_a_unique_name_and_a_type(app, login_as, client):
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    make_plan_in_db(app, platform_id, "Existente")
    login_as("admin")
    wizard = Wizard(client).next(name="", plan_type="")
    assert "Informe o nome do plano." in wizard.html and "Escolha o tipo do plano" in wizard.html
    wizard.next(name="existente", plan_type="tv_ott")
    assert wizard.shown_step == 1 and "Já existe um plano com este nome." in wizard.html


def test_step_three_applies_the_platform_rules(app, login_as, client):
    ittv_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    skeelo_id = make_platform(app, "skeelo", SKEELO_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client).next(name="TV", plan_type="tv_ott")
    wizard.next(contract_months="12", monthly_value="39,90", **composition(TV=("percent", "100")))
    assert wizard.shown_step == 3

    wizard.next(platform_id=str(ittv_id), product_ids=[])
    assert "Selecione os pacotes do plano." in wizard.html
    premium, esportes = product_ids(app, "PLAYHUB-PREMIUM", "PLAYHUB-ESPORTES")
    wizard.next(platform_id=str(ittv_id), product_ids=[premium, esportes])
    assert "Na ITTV cada cliente tem um único produto" in wizard.html
    (ebooks,) = product_ids(app, "SKEELO-EBOOKS")
    wizard.next(platform_id=str(skeelo_id), product_ids=[ebooks])
    assert "Um plano TV/OTT precisa de uma operadora (TV/OTT)" in wizard.html
    wizard.next(platform_id=str(ittv_id), product_ids=[ebooks])
    assert "Selecione somente pacotes de ITTV demo." in wizard.html
    wizard.next(platform_id=str(ittv_id), product_ids=[premium])
    assert wizard.shown_step == 4


def test_going_back_keeps_every_answer(app, login_as, client):
    make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client).next(name="Volta", plan_type="tv_ott")
    wizard.next(contract_months="24", monthly_value="1.234,50", **composition(SCM=("percent", "100")))
    wizard.press("back")
    assert wizard.shown_step == 2 and 'value="24"' in wizard.html and 'value="1.234,50"' in wizard.html
    wizard.press("back")
    assert wizard.shown_step == 1 and 'value="Volta"' in wizard.html
    wizard.next()
    wizard.next()
    assert wizard.shown_step == 3


def test_efetivar_checks_every_step_again(app, login_as, client):
    """A forged review page with a bad composition never becomes a plan."""
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    (premium,) = product_ids(app, "PLAYHUB-PREMIUM")
    data = {
        "name": "Forjado",
        "plan_type": "tv_ott",
        "contract_months": "12",
        "monthly_value": "39,90",
        **composition(SCM=("percent", "50")),
        "platform_id": str(platform_id),
        "product_ids": str(premium),
        "step": "4",
        "action": "efetivar",
    }
    response = post_form(client, NEW, data)
    assert response.status_code == 200 and "devem somar exatamente 100%" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Plan)) == 0


def test_no_platform_for_the_type_says_where_to_register_one(app, login_as, client):
    make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client).next(name="SVA", plan_type="sva")
    wizard.next(contract_months="12", monthly_value="9,90", **composition(SVA=("percent", "100")))
    assert "Nenhuma plataforma ativa serve planos deste tipo." in wizard.html


def test_editing_a_plan_changes_new_terms_but_never_its_type_or_platform(app, login_as, client):
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    plan_id = make_plan_in_db(app, platform_id, "TV Básica")
    login_as("admin")
    edit = f"/configuracoes/planos/{plan_id}/editar"
    wizard = Wizard(client, edit)
    assert 'value="TV Básica"' in wizard.html and "O tipo de um plano não muda" in wizard.html
    wizard.next(name="TV Básica 2026")
    assert 'value="39,90"' in wizard.html and 'value="100"' in wizard.html
    wizard.next(monthly_value="44,90")
    assert "A plataforma de um plano não muda" in wizard.html
    wizard.next()
    assert "Os contratos existentes mantêm o valor, a composição e os pacotes" in wizard.html
    assert wizard.press("efetivar").status_code == 302
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.name == "TV Básica 2026" and plan.monthly_value == Decimal("44.90") and plan.plan_type == "tv_ott"
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "plan.updated")).one()
        assert event.changes == {"name": ["TV Básica", "TV Básica 2026"], "monthly_value": ["R$ 39,90", "R$ 44,90"]}

    # A forged type or platform is ignored: the plan keeps its own.
    skeelo_id = make_platform(app, "skeelo", SKEELO_PRODUCTS)
    forged = Wizard(client, edit).next(plan_type="sva").next()
    forged.next(platform_id=str(skeelo_id))
    assert forged.shown_step == 4 and "ITTV demo" in forged.html
    assert forged.press("efetivar").status_code == 302
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.plan_type == "tv_ott" and plan.platform_id == platform_id


def test_deactivating_and_removing_a_plan(app, login_as, client):
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    plan_id = make_plan_in_db(app, platform_id, "Temporário")
    login_as("admin")
    listing = "/configuracoes/planos"
    post_form(client, listing, {"active": "0"}, post_url=f"/configuracoes/planos/{plan_id}/situacao")
    with app.app_context():
        assert not db.session.get(Plan, plan_id).active
    # A deactivated plan is no longer offered for new plans' platforms… and stays listed.
    assert "Inativo" in client.get(listing).get_data(as_text=True)
    post_form(client, listing, {"active": "1"}, post_url=f"/configuracoes/planos/{plan_id}/situacao")
    post_form(client, listing, {}, post_url=f"/configuracoes/planos/{plan_id}/remover")
    with app.app_context():
        assert db.session.get(Plan, plan_id) is None
        actions = [
            e.action
            for e in db.session.scalars(
                db.select(AuditEvent).where(AuditEvent.action.like("plan.%")).order_by(AuditEvent.id)
            )
        ]
        assert actions == ["plan.created", "plan.updated", "plan.updated", "plan.deleted"]


def test_a_product_a_plan_sells_cannot_be_removed_nor_have_its_code_changed(app, login_as, client):
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    make_plan_in_db(app, platform_id, "Vende o premium", codes=("PLAYHUB-BASICO", "PLAYHUB-PREMIUM"))
    premium, basico = product_ids(app, "PLAYHUB-PREMIUM", "PLAYHUB-BASICO")
    login_as("admin")
    detail = f"/configuracoes/plataformas/{platform_id}"
    response = post_form(
        client, detail, {}, post_url=f"/configuracoes/produtos/{premium}/remover", follow_redirects=True
    )
    assert "é usado pelos planos Vende o premium: retire-o desses planos antes de removê-lo." in response.get_data(
        as_text=True
    )
    renamed = post_form(client, f"/configuracoes/produtos/{premium}/editar", {"code": "NOVO", "name": "Premium"})
    assert "O código identifica o pacote na plataforma" in renamed.get_data(as_text=True)
    # Marking the plan's full package as base too would leave the plan without a full one.
    both_base = post_form(
        client,
        f"/configuracoes/produtos/{premium}/editar",
        {"code": "PLAYHUB-PREMIUM", "name": "Premium", "is_base": "y"},
    )
    assert "O plano Vende o premium ficaria inválido" in both_base.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Product, premium).code == "PLAYHUB-PREMIUM"
        assert not db.session.get(Product, premium).is_base


def test_leitura_sees_plans_but_no_buttons_and_cannot_post(app, login_as, client):
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    plan_id = make_plan_in_db(app, platform_id, "Visível")
    login_as("leitura")
    listing = client.get("/configuracoes/planos").get_data(as_text=True)
    assert "Visível" in listing and "Adicionar plano" not in listing and "Editar" not in listing
    assert "R$ 39,90" in client.get(f"/configuracoes/planos/{plan_id}").get_data(as_text=True)
    assert client.get(NEW).status_code == 403
    from tests.conftest import csrf_token_from

    token = (
        csrf_token_from(listing)
        if 'name="csrf_token"' in listing
        else csrf_token_from(client.get("/").get_data(as_text=True))
    )
    for url in (
        NEW,
        f"/configuracoes/planos/{plan_id}/editar",
        f"/configuracoes/planos/{plan_id}/situacao",
        f"/configuracoes/planos/{plan_id}/remover",
    ):
        assert client.post(url, data={"csrf_token": token, "active": "0"}).status_code == 403


def test_changing_the_type_after_choosing_a_platform_starts_step_three_afresh(app, login_as, client):
    make_platform(app, "ittv", ITTV_PRODUCTS)
    skeelo_id = make_platform(app, "skeelo", SKEELO_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client).next(name="Muda", plan_type="tv_ott")
    wizard.next(contract_months="12", monthly_value="9,90", **composition(SVA=("percent", "100")))
    assert "Na ITTV, escolha um pacote completo" in wizard.html
    (premium,) = product_ids(app, "PLAYHUB-PREMIUM")
    wizard.next(product_ids=[premium])
    assert wizard.shown_step == 4
    wizard.press("back")
    wizard.press("back")
    wizard.press("back")
    assert wizard.shown_step == 1
    wizard.next(plan_type="sva").next()
    assert wizard.shown_step == 3 and "Na ITTV" not in wizard.html
    assert re.search(rf'<option selected value="{skeelo_id}">|<option value="{skeelo_id}" selected', wizard.html)
    assert f'value="{premium}" id="product-{premium}" checked' not in wizard.html


def test_editing_shows_saved_values_in_reais_with_their_cents(app, login_as, client):
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    login_as("admin")
    wizard = Wizard(client).next(name="Reais", plan_type="tv_ott")
    wizard.next(contract_months="12", monthly_value="39,90", **composition(SCM=("value", "29,9"), SVA=("value", "10")))
    basico, premium = product_ids(app, "PLAYHUB-BASICO", "PLAYHUB-PREMIUM")
    wizard.next(platform_id=str(platform_id), product_ids=[basico, premium])
    assert wizard.press("efetivar").status_code == 302
    with app.app_context():
        plan_id = db.session.scalar(db.select(Plan.id))
    edit = Wizard(client, f"/configuracoes/planos/{plan_id}/editar").next()
    assert 'value="29,90"' in edit.html and 'value="10,00"' in edit.html
