"""Financeiro → Painel do Cliente through the pages: clients, contracts and their buttons,
and what each leaves in the database (desired state, Operation, history), with nothing sent to
a platform (the provisioning engine runs the Operations)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from panel.extensions import db
from panel.models import (
    AuditEvent,
    Client,
    Contract,
    ContractEvent,
    Operation,
    Plan,
    Subscription,
)
from tests.conftest import csrf_token_from, post_form
from tests.factories import (
    CNPJS,
    CPFS,
    SYSTEM,
    ittv_plan,
    make_client,
    make_contract,
    skeelo_plan,
)

BASE = "/financeiro/painel-do-cliente"


def client_form(**changes) -> dict:
    return {
        "kind": "pf",
        "name": "Maria da Silva",
        "document": "529.982.247-25",
        "email": "maria@example.com.br",
        "phone": "(11) 98765-4321",
        "zipcode": "01310-100",
        "street": "Av. Paulista",
        "number": "1000",
        "complement": "ap 12",
        "city": "São Paulo",
        "state": "SP",
        "active": "y",
        **changes,
    }


def act(client, contract_id: int, path: str):
    """Press one of the contract's buttons (a POST with the page's CSRF token)."""
    return post_form(
        client, f"{BASE}/contratos/{contract_id}", {}, f"{BASE}/contratos/{contract_id}/{path}", follow_redirects=True
    )


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# -- clients --------------------------------------------------------------------------------


def test_operator_registers_a_person_shown_masked_and_stored_as_digits(app, login_as, client):
    login_as("operador")
    response = post_form(client, f"{BASE}/clientes/novo?tipo=pf", client_form())
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalars(db.select(Client)).one()
        assert (person.document, person.phone, person.zipcode, person.kind) == (
            "52998224725",
            "11987654321",
            "01310100",
            "pf",
        )
        assert (
            db.session.scalar(db.select(AuditEvent.action).where(AuditEvent.target_type == "Client"))
            == "client.created"
        )
    detail = page(client, response.headers["Location"])
    assert "529.982.247-25" in detail and "(11) 98765-4321" in detail and "01310-100" in detail
    landing = page(client, BASE + "/")
    assert "Últimos 1000 novos cadastros ativos" in landing and "Maria da Silva" in landing
    assert "529.982.247-25" in landing


def test_a_company_needs_a_valid_cnpj(app, login_as, client):
    login_as("operador")
    refused = post_form(
        client, f"{BASE}/clientes/novo", client_form(kind="pj", name="Livraria Ltda", document="11.222.333/0001-80")
    )
    assert "CNPJ inválido: confira os dígitos." in refused.get_data(as_text=True)
    accepted = post_form(
        client, f"{BASE}/clientes/novo", client_form(kind="pj", name="Livraria Ltda", document="11.222.333/0001-81")
    )
    assert accepted.status_code == 302
    assert "11.222.333/0001-81" in page(client, accepted.headers["Location"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"document": "529.982.247-24"}, "CPF inválido: confira os dígitos."),
        ({"document": "111.111.111-11"}, "CPF inválido: confira os dígitos."),
        ({"document": "5299822472"}, "O CPF tem 11 dígitos."),
        ({"document": ""}, "Informe o CPF."),
        ({"name": "  "}, "Informe o nome."),
        ({"email": "maria@"}, "E-mail inválido"),
        ({"phone": "9876-4321"}, "Informe o telefone com DDD"),
        ({"zipcode": "0131"}, "O CEP tem 8 dígitos."),
        ({"state": "XX"}, "Escolha"),
        ({"kind": "zz"}, "Escolha"),
    ],
)
def test_bad_client_data_is_refused_next_to_its_field(app, login_as, client, changes, message):
    login_as("operador")
    response = post_form(client, f"{BASE}/clientes/novo", client_form(**changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html and "is-invalid" in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Client)) == 0


def test_every_bad_field_is_reported_at_once(app, login_as, client):
    login_as("operador")
    html = post_form(client, f"{BASE}/clientes/novo", client_form(document="123", email="x@", zipcode="1")).get_data(
        as_text=True
    )
    assert "O CPF tem 11 dígitos." in html and "E-mail inválido" in html and "O CEP tem 8 dígitos." in html


def test_a_document_is_registered_once(app, login_as, client):
    make_client(app, document=CPFS[0])
    login_as("operador")
    html = post_form(client, f"{BASE}/clientes/novo", client_form(document=CPFS[0])).get_data(as_text=True)
    assert "Já existe um cliente com este CPF." in html


def test_search_finds_by_name_document_email_and_contract_number(app, login_as, client):
    plan_id = skeelo_plan(app)
    maria = make_client(app, document=CPFS[0], name="Maria da Silva", email="maria@example.com.br")
    make_client(app, document=CPFS[1], name="João Souza", email="joao@example.net")
    company = make_client(app, document=CNPJS[0], name="Livraria Ltda", email="contato@livraria.com.br")
    contract_id = make_contract(app, company, plan_id)
    login_as("leitura")

    def found(text: str) -> set[str]:
        html = page(client, f"{BASE}/?q={text}")
        return {name for name in ("Maria da Silva", "João Souza", "Livraria Ltda") if name in html}

    assert found("silva") == {"Maria da Silva"}
    assert found("JOAO") == found("joão") == found("João Souza") == {"João Souza"}  # accents and case aside
    assert found("529.982") == {"Maria da Silva"}
    assert found("11222333") == {"Livraria Ltda"}
    assert found("joao@example") == {"João Souza"}
    # A short number is a contract's number or a client's code: both are found.
    assert "Livraria Ltda" in found(str(contract_id)) and "Livraria Ltda" in found(str(company))
    assert found(str(maria)) >= {"Maria da Silva"}
    assert found("ninguém") == set()


def test_the_landing_list_shows_active_clients_newest_first_paged_by_keyset(app, login_as, client, monkeypatch):
    from panel.domain import clients as clients_domain

    ids = [make_client(app, document=cpf, name=f"Cliente {n}", email="") for n, cpf in enumerate(CPFS)]
    with app.app_context():
        db.session.get(Client, ids[0]).active = False
        db.session.commit()
    monkeypatch.setattr(clients_domain, "LANDING_SIZE", 2)
    login_as("leitura")
    first = page(client, BASE + "/")
    assert "Cliente 4" in first and "Cliente 3" in first and "Cliente 2" not in first
    assert f"antes={ids[3]}" in first  # the next page starts after the last id shown: no OFFSET
    second = page(client, f"{BASE}/?antes={ids[3]}")
    assert "Cliente 2" in second and "Cliente 1" in second
    third = page(client, f"{BASE}/?antes={ids[1]}")
    assert "Cliente 0" not in third  # inactive: not in the landing list…
    assert "Cliente 0" in page(client, f"{BASE}/?q=Cliente 0")  # …but found by a search


# -- contracts ------------------------------------------------------------------------------


def new_contract(client, client_id: int, plan: int | str, **changes):
    data = {"plan_id": str(plan), "start_date": "2026-11-01", "due_day": "10", **changes}
    return post_form(client, f"{BASE}/clientes/{client_id}/contratos/novo", data)


def test_a_new_contract_copies_the_plan_terms(app, login_as, client):
    plan_id = ittv_plan(app)
    person = make_client(app)
    login_as("operador")
    form = page(client, f"{BASE}/clientes/{person}/contratos/novo")
    assert "PlayHub TV" in form
    response = new_contract(client, person, plan_id)
    assert response.status_code == 302
    with app.app_context():
        contract = db.session.scalars(db.select(Contract)).one()
        assert (contract.status, contract.start_date, contract.due_day, contract.monthly_value) == (
            "active",
            date(2026, 11, 1),
            10,
            Decimal("39.90"),
        )
        assert contract.product_codes == ["PLAYHUB-BASICO", "PLAYHUB-ESPORTES"]
        assert contract.base_codes == ["PLAYHUB-BASICO"] and contract.subscription is None
        # A later change of the plan does not touch the contract.
        plan = db.session.get(Plan, plan_id)
        plan.monthly_value = Decimal("49.90")
        db.session.commit()
        assert db.session.get(Contract, contract.id).monthly_value == Decimal("39.90")
    html = page(client, response.headers["Location"])
    assert "R$ 39,90" in html and "Ainda não sincronizado" in html and "Contrato criado com o plano PlayHub TV" in html


def test_contract_form_refuses_bad_input_next_to_its_field(app, login_as, client):
    plan_id = ittv_plan(app)
    person = make_client(app)
    login_as("operador")
    html = new_contract(client, person, "", due_day="32").get_data(as_text=True)
    assert "Escolha o plano do contrato." in html and "Informe o dia de vencimento, de 1 a 31." in html
    with app.app_context():
        db.session.get(Plan, plan_id).active = False
        db.session.commit()
    html = new_contract(client, person, plan_id).get_data(as_text=True)
    assert "está desativado" in html
    assert "PlayHub TV" not in page(client, f"{BASE}/clientes/{person}/contratos/novo")


def test_a_plan_with_contracts_cannot_be_removed(app, login_as, client):
    plan_id = ittv_plan(app)
    make_contract(app, make_client(app), plan_id)
    login_as("admin")
    response = post_form(
        client, "/configuracoes/planos", {}, f"/configuracoes/planos/{plan_id}/remover", follow_redirects=True
    )
    assert "já é usado por contratos: desative-o" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Plan, plan_id) is not None


def test_sync_records_desired_state_operation_and_history_and_enqueues_only_its_id(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    user = login_as("operador")
    html = act(client, contract_id, "sincronizar").get_data(as_text=True)
    assert "Sincronização solicitada." in html
    with app.app_context():
        subscription = db.session.scalars(db.select(Subscription)).one()
        assert subscription.desired_status == "active" and subscription.remote_status is None
        operation = db.session.scalars(db.select(Operation)).one()
        assert (operation.kind, operation.status, operation.target_status, operation.requested_by_id) == (
            "sync",
            "queued",
            "active",
            user.id,
        )
        event = db.session.scalars(db.select(ContractEvent).where(ContractEvent.action == "sync")).one()
        assert event.operation_id == operation.id and event.actor_name == user.name
        assert "Sincronização solicitada com ITTV demo" in event.asked
        # The view called no platform: a job carrying only the operation's id waits for a worker.
        from rq import Queue

        [job] = Queue("provisioning", connection=app.extensions["redis"]).jobs
        assert (job.id, job.args, job.kwargs) == (f"op-{operation.id}", (operation.id,), {})


def test_ittv_allows_one_synced_contract_per_client(app, login_as, client):
    plan_id = ittv_plan(app)
    person = make_client(app)
    first, second = make_contract(app, person, plan_id), make_contract(app, person, plan_id)
    login_as("operador")
    act(client, first, "sincronizar")
    # Novo contrato already tells, and the contract page says so before the click…
    hint = page(client, f"{BASE}/clientes/{person}/contratos/novo").split('data-testid="exclusive-sync"', 1)[1]
    assert f"contrato {first}</a> sincronizado na ITTV demo" in hint
    warning = page(client, f"{BASE}/contratos/{second}").split('data-testid="sync-problem"', 1)[1]
    assert "Sincronizar será recusado" in warning and f"o contrato {first} deste cliente" in warning
    # …and the click is refused with the seed's words.
    html = act(client, second, "sincronizar").get_data(as_text=True)
    assert "somente é possível sincronizar 1 único contrato por assinante" in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Subscription)) == 1
    # Once the first is cancelled, a new contract of the client can be synced.
    assert "OK! Contrato cancelado com sucesso." in act(client, first, "cancelar").get_data(as_text=True)
    assert "Sincronização solicitada." in act(client, second, "sincronizar").get_data(as_text=True)


def test_skeelo_takes_several_contracts_of_one_client(app, login_as, client):
    plan_id = skeelo_plan(app)
    company = make_client(app, document=CNPJS[0], name="Livraria Ltda")
    login_as("operador")
    for contract_id in (make_contract(app, company, plan_id), make_contract(app, company, plan_id)):
        assert "Sincronização solicitada." in act(client, contract_id, "sincronizar").get_data(as_text=True)


def test_sync_needs_the_clients_email(app, login_as, client):
    contract_id = make_contract(app, make_client(app, email=""), ittv_plan(app))
    login_as("operador")
    html = act(client, contract_id, "sincronizar").get_data(as_text=True)
    assert "Informe o e-mail do cliente antes de sincronizar" in html and "login e a senha" in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Operation)) == 0


def test_suspend_and_reactivate_at_ittv_keeps_the_block_until_the_unblock(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    login_as("operador")
    act(client, contract_id, "sincronizar")
    html = act(client, contract_id, "suspender").get_data(as_text=True)
    assert "Contrato suspenso." in html
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.status == "suspended" and contract.subscription.desired_status == "blocked"
    html = act(client, contract_id, "cancelar-suspensao").get_data(as_text=True)
    # The note links to the subscriber's row in Integradores: its tab, its platform, its number.
    with app.app_context():
        platform_id = db.session.get(Contract, contract_id).platform_id
    row = f"/integradores/tv/clientes?aba=bloqueados&amp;plataforma={platform_id}&amp;q={contract_id}"
    assert f'faça o <a href="{row}" class="alert-link">Desbloqueio em Integradores</a>.' in html
    # Not only a flash: the page keeps saying the access waits for the unblock, with the same link.
    note = page(client, f"{BASE}/contratos/{contract_id}").split('data-testid="access-note"', 1)[1]
    note = note.split("</div>", 1)[0]
    assert (
        "Bloqueio total" in note and f'<a href="{row}" class="alert-link">Desbloqueio dos pontos deste contrato' in note
    )
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.status == "active" and contract.subscription.desired_status == "blocked"
        kinds = [op.kind for op in db.session.scalars(db.select(Operation).order_by(Operation.id))]
        assert kinds == ["sync", "set_status"]  # reactivation alone sends nothing to ITTV


def test_suspend_and_reactivate_at_skeelo_reach_the_platform(app, login_as, client):
    contract_id = make_contract(app, make_client(app, document=CNPJS[0]), skeelo_plan(app))
    login_as("operador")
    act(client, contract_id, "sincronizar")
    act(client, contract_id, "suspender")
    act(client, contract_id, "cancelar-suspensao")
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.status == "active" and contract.subscription.desired_status == "active"
        targets = [op.target_status for op in db.session.scalars(db.select(Operation).order_by(Operation.id))]
        assert targets == ["active", "blocked", "active"]


def test_a_cancelled_contract_accepts_nothing_more(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    login_as("operador")
    act(client, contract_id, "sincronizar")
    html = act(client, contract_id, "cancelar").get_data(as_text=True)
    assert "OK! Contrato cancelado com sucesso." in html and "não aceita mais ações" in html
    for button in (
        "Sincronizar",
        "Suspender contrato",
        "Cancelar suspensão",
        "Cancelar contrato",
        "Gerar título do mês",
    ):
        assert f"> {button}</button>" not in html
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.status == "cancelled" and contract.subscription.desired_status == "cancelled"
        events_before = db.session.scalar(db.select(db.func.count()).select_from(ContractEvent))
    for path in ("sincronizar", "suspender", "cancelar-suspensao", "cancelar"):
        assert "está cancelado e não aceita mais ações" in act(client, contract_id, path).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, contract_id).status == "cancelled"
        assert db.session.scalar(db.select(db.func.count()).select_from(ContractEvent)) == events_before


def test_the_history_names_who_asked_what_in_sao_paulo_time(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    user = login_as("operador")
    act(client, contract_id, "sincronizar")
    act(client, contract_id, "suspender")
    html = page(client, f"{BASE}/contratos/{contract_id}")
    history = html.split("Histórico do contrato", 1)[1]
    assert history.index("Contrato suspenso") < history.index("Sincronização solicitada")  # newest first
    assert user.name in history and "Testes" in history and "automático" in history
    with app.app_context():
        event = db.session.scalars(db.select(ContractEvent).where(ContractEvent.action == "suspend")).one()
        from zoneinfo import ZoneInfo

        shown = event.created_at.astimezone(ZoneInfo("America/Sao_Paulo")).strftime("%d/%m/%Y %H:%M:%S")
    assert shown in history


def test_history_lines_cannot_be_changed_or_removed(app):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    with app.app_context():
        event = db.session.scalars(db.select(ContractEvent).where(ContractEvent.contract_id == contract_id)).one()
        event.asked = "outra coisa"
        with pytest.raises(ValueError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(ContractEvent, event.id))
        with pytest.raises(ValueError, match="append-only"):
            db.session.commit()
        db.session.rollback()


# -- login data at ITTV ---------------------------------------------------------------------


def test_changing_email_or_cpf_of_a_synced_ittv_client_schedules_the_login_update(app, login_as, client):
    person = make_client(app)
    synced = make_contract(app, person, ittv_plan(app))
    make_contract(app, person, skeelo_plan(app))  # not synced, and Skeelo has no login: nothing for it
    login_as("operador")
    act(client, synced, "sincronizar")
    edit = f"{BASE}/clientes/{person}/editar"
    form = page(client, edit)
    assert 'value="529.982.247-25"' in form
    response = post_form(client, edit, client_form(email="maria.nova@example.com.br", document=CPFS[1]))
    assert response.status_code == 302
    with app.app_context():
        operation = db.session.scalars(db.select(Operation).where(Operation.kind == "update_login")).one()
        assert operation.details == {"fields": ["email", "document"]} and operation.status == "queued"
        event = db.session.scalars(db.select(ContractEvent).where(ContractEvent.action == "update_login")).one()
        assert event.contract_id == synced and "atualização do login na ITTV demo solicitada" in event.asked
    # The e-mail is the login: it cannot be emptied while the contract is synced.
    html = post_form(client, edit, client_form(email="", document=CPFS[1])).get_data(as_text=True)
    assert "o e-mail não pode ficar vazio" in html


def test_changing_other_client_data_schedules_nothing(app, login_as, client):
    person = make_client(app)
    synced = make_contract(app, person, ittv_plan(app))
    login_as("operador")
    act(client, synced, "sincronizar")
    post_form(client, f"{BASE}/clientes/{person}/editar", client_form(phone="(21) 3456-7890"))
    with app.app_context():
        assert [op.kind for op in db.session.scalars(db.select(Operation))] == ["sync"]
        assert db.session.get(Client, person).phone == "2134567890"


# -- permissions ----------------------------------------------------------------------------


def test_leitura_reads_but_sees_no_button_and_a_forged_post_is_refused(app, login_as, client):
    person = make_client(app)
    contract_id = make_contract(app, person, ittv_plan(app))
    login_as("leitura")
    html = page(client, f"{BASE}/contratos/{contract_id}")
    assert "Contrato 1" in html or f"Contrato {contract_id}" in html
    for button in ("Sincronizar", "Suspender contrato", "Cancelar contrato", "Gerar título do mês", "Editar cadastro"):
        assert button not in html
    assert "Nova pessoa física" not in page(client, BASE + "/")
    token = csrf_token_from(page(client, "/"))
    for url in [f"{BASE}/contratos/{contract_id}/{path}" for path in ("sincronizar", "suspender", "cancelar")] + [
        f"{BASE}/contratos/{contract_id}/titulos/gerar",
        f"{BASE}/clientes/novo",
        f"{BASE}/clientes/{person}/editar",
        f"{BASE}/clientes/{person}/contratos/novo",
    ]:
        response = client.post(url, data={"csrf_token": token, **client_form()})
        assert response.status_code == 403, url
        response.close()
    assert client.get(f"{BASE}/clientes/novo").status_code == 403
    with app.app_context():
        assert db.session.get(Contract, contract_id).subscription is None
        assert db.session.scalar(db.select(db.func.count()).select_from(Client)) == 1


def test_unknown_contract_action_is_not_found(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    login_as("operador")
    token = csrf_token_from(page(client, "/"))
    response = client.post(f"{BASE}/contratos/{contract_id}/explodir", data={"csrf_token": token})
    assert response.status_code == 404
    response.close()


def test_a_post_without_csrf_token_is_refused(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    login_as("operador")
    response = client.post(f"{BASE}/contratos/{contract_id}/sincronizar")
    assert response.status_code == 400
    response.close()
    with app.app_context():
        assert db.session.get(Contract, contract_id).subscription is None
    assert SYSTEM.name == "Testes"


@pytest.mark.parametrize("query", ["?antes=²", "?antes=" + "9" * 25, "?q=²²²²²", "?q=" + "9" * 30, "?q=%25_%5C"])
def test_crafted_search_and_paging_parameters_answer_a_page(app, login_as, client, query):
    make_client(app)
    login_as("leitura")
    response = client.get(f"{BASE}/{query}")
    assert response.status_code == 200
    response.close()
