"""Integradores through the pages: *Clientes de TV* and *Gerenciador de licenças* (tabs,
search, keyset pages, row and bulk actions), *Operações* (filters, *Tentar novamente*), the
state cells the pages poll, the circuit-breaker banner and who may do what. The actions go
through the real domain; where the platform must answer, a real sandbox and an RQ worker
(``run_jobs``) do."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from panel.domain import subscribers as subscribers_domain
from panel.extensions import db
from panel.models import Contract, ContractEvent, ListTab, Operation, Subscription
from tests.conftest import csrf_token_from, post_form
from tests.factories import CNPJS, CPFS, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act, platform_at

TV = "/integradores/tv/clientes"
LICENCAS = "/integradores/licencas/assinantes"
OPERACOES = "/integradores/operacoes"
CONTRACT_PAGE = "/financeiro/painel-do-cliente/contratos/{}"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def rows(html: str) -> list[int]:
    """The contract numbers listed, in order."""
    return [int(n) for n in re.findall(r'data-contract="(\d+)" data-testid="subscriber-row"', html)]


def row_html(html: str, contract_id: int) -> str:
    start = html.index(f'data-contract="{contract_id}"')
    return html[start : html.index("</tr>", start)]


def synced(
    app,
    plan_id: int,
    *,
    document: str = CPFS[0],
    name: str = "Maria da Silva",
    email: str = "maria@example.com.br",
    then: tuple[str, ...] = (),
) -> int:
    """A contract synced with its platform (its request recorded; no worker runs it), then the
    given actions applied through the domain."""
    client_id = make_client(app, document=document, name=name, email=email)
    contract_id = make_contract(app, client_id, plan_id)
    for action in ("sync", *then):
        act(app, contract_id, action)
    return contract_id


def press(client, list_url: str, contract_id: int, path: str):
    """A row's action button, posted from the list (which it returns to)."""
    return post_form(client, list_url, {"voltar": list_url}, f"/integradores/contratos/{contract_id}/{path}")


def flashes(html: str) -> str:
    return " ".join(re.findall(r"data-message>\s*(.*?)\s*<button", html, re.S))


# -- the lists ------------------------------------------------------------------------------


def test_each_tab_lists_the_subscribers_in_it_after_each_action(app, login_as, client):
    plan = ittv_plan(app)
    active = synced(app, plan, document=CPFS[0], name="Ana Ativa")
    partial = synced(app, plan, document=CPFS[1], name="Bruno Parcial", then=("partial_block",))
    blocked = synced(app, plan, document=CPFS[2], name="Carla Total", then=("block",))
    suspended = synced(app, plan, document=CPFS[3], name="Davi Suspenso", then=("suspend",))
    make_contract(app, make_client(app, document=CPFS[4], name="Eva Nunca"), plan)  # never synced: no subscriber
    skeelo = synced(app, skeelo_plan(app), document=CNPJS[0], name="Livraria Ltda")
    login_as("leitura")

    assert rows(page(client, TV)) == [active]  # the default tab: Assinantes ativos
    blocked_html = page(client, f"{TV}?aba=bloqueados")
    assert rows(blocked_html) == [blocked, partial]  # newest first
    assert "Bloqueio parcial" in row_html(blocked_html, partial) and "Bloqueio total" in row_html(blocked_html, blocked)
    inactive_html = page(client, f"{TV}?aba=cancelados")
    assert rows(inactive_html) == [suspended] and "contrato suspenso" in row_html(inactive_html, suspended)
    assert rows(page(client, LICENCAS)) == [skeelo]  # the other area lists the other platforms

    # What each row shows: the contract's link, the client, masked document, e-mail, plan, platform.
    row = row_html(page(client, TV), active)
    for text in (
        CONTRACT_PAGE.format(active),
        "Ana Ativa",
        "529.982.247-25",
        "maria@example.com.br",
        "PlayHub TV",
        "ITTV demo",
    ):
        assert text in row
    # Nothing was confirmed yet: the row shows the request on its way, and is followed by the page.
    assert "Aguardando confirmação" in row and "Na fila" in row and "data-poll-batch=" in row

    # An action moves the row: the suspended contract is cancelled and stays in its tab;
    # the partial block is lifted and the row is back in Assinantes ativos.
    act(app, suspended, "cancel")
    act(app, partial, "unblock")
    assert rows(page(client, TV)) == [partial, active]
    assert rows(page(client, f"{TV}?aba=bloqueados")) == [blocked]
    assert rows(page(client, f"{TV}?aba=cancelados")) == [suspended]


def test_search_finds_by_name_document_email_and_contract_number(app, login_as, client):
    plan = skeelo_plan(app)
    maria = synced(app, plan, document=CPFS[0], name="Maria da Conceição", email="maria@example.com.br")
    joao = synced(app, plan, document=CPFS[1], name="João Souza", email="joao@example.net")
    company = synced(app, plan, document=CNPJS[0], name="Livraria Ltda", email="contato@livraria.com.br")
    login_as("leitura")

    def found(text: str, tab: str = "ativos") -> list[int]:
        return rows(page(client, f"{LICENCAS}?aba={tab}&q={text}"))

    assert found("conceicao") == found("CONCEIÇÃO") == [maria]  # accents and case aside
    assert found("joao@example") == [joao]
    assert found("529.982") == [maria] and found("11222333") == [company]
    assert found(str(company)) == [company]
    assert found("ninguém") == []
    assert "Nenhum assinante encontrado." in page(client, f"{LICENCAS}?q=ninguém")
    # The search stays within the tab.
    act(app, joao, "block")
    assert found("joao") == [] and found("joao", "bloqueados") == [joao]


def test_pages_follow_by_keyset_without_overlap(app, login_as, client, monkeypatch):
    monkeypatch.setattr(subscribers_domain, "PAGE_SIZE", 2)
    plan = skeelo_plan(app)
    company = make_client(app, document=CNPJS[0], name="Livraria Ltda")
    contracts = [make_contract(app, company, plan) for _ in range(5)]
    for contract_id in contracts:
        act(app, contract_id, "sync")
    with app.app_context():
        subscription_of = dict(db.session.execute(db.select(Subscription.contract_id, Subscription.id)).all())
    login_as("leitura")

    first = page(client, LICENCAS)
    assert rows(first) == [contracts[4], contracts[3]]
    assert f"antes={subscription_of[contracts[3]]}" in first and "Próxima página" in first
    second = page(client, f"{LICENCAS}?antes={subscription_of[contracts[3]]}")
    assert rows(second) == [contracts[2], contracts[1]]
    third = page(client, f"{LICENCAS}?antes={subscription_of[contracts[1]]}")
    assert rows(third) == [contracts[0]] and "antes=" not in third.split('aria-label="Paginação"')[1].split("Início")[1]
    # The filters travel with the page links.
    searched = page(client, f"{LICENCAS}?q=livraria")
    assert "q=livraria" in searched.split("Próxima página")[0].rsplit("href=", 1)[1]


@pytest.mark.parametrize(
    "query",
    [
        "?antes=²",
        "?antes=" + "9" * 25,
        "?antes=-1",
        "?aba=outra",
        "?plataforma=x",
        "?plataforma=99",
        "?q=%25_%5C",
        "?q=" + "9" * 200,
    ],
)
def test_crafted_list_parameters_answer_a_page(app, login_as, client, query):
    synced(app, ittv_plan(app))
    login_as("leitura")
    for base in (TV, LICENCAS, OPERACOES):
        response = client.get(base + query)
        assert response.status_code == 200, base + query
        response.close()


def test_the_platform_filter_shows_one_platform_of_the_area(app, login_as, client):
    from tests.factories import SKEELO_PRODUCTS, make_plan_in_db, make_platform

    first = synced(app, skeelo_plan(app), document=CNPJS[0], name="Livraria Ltda")
    other_platform = make_platform(app, "skeelo", SKEELO_PRODUCTS[:1], code="SKEELO2")
    second = synced(app, make_plan_in_db(app, other_platform, "Outro Skeelo"), document=CNPJS[1], name="Editora SA")
    login_as("leitura")
    html = page(client, LICENCAS)
    assert rows(html) == [second, first] and 'name="plataforma"' in html
    assert rows(page(client, f"{LICENCAS}?plataforma={other_platform}")) == [second]


def test_the_list_reads_the_same_few_queries_whatever_its_length(app, login_as, client):
    """Rows come with their contract, client and last request in a fixed number of queries."""
    plan = skeelo_plan(app)
    company = make_client(app, document=CNPJS[0], name="Livraria Ltda")
    login_as("operador")

    def queries_for_list() -> int:
        with app.app_context():
            engine = db.engine
        seen = []

        def count(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            page(client, LICENCAS)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    for _ in range(2):
        act(app, make_contract(app, company, plan), "sync")
    few = queries_for_list()
    for _ in range(4):
        act(app, make_contract(app, company, plan), "sync")
    assert queries_for_list() == few


def test_without_a_search_the_page_reads_the_list_index_in_order(app):
    """The ids of a page come from (platform_id, list_tab, id), already in order: nothing
    scans or sorts every subscriber (the lists must hold a million)."""
    plan = skeelo_plan(app)
    synced(app, plan, document=CNPJS[0], name="Livraria Ltda")
    with app.app_context():
        statements = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().startswith("SELECT subscriptions.id \nFROM") and "list_tab" in statement:
                statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            platform_ids = [p.id for p in subscribers_domain.area_platforms("sva")]
            subscribers_domain.page(platform_ids, ListTab.active, before_id=10**9)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        assert statements
        connection = db.session.connection()
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:  # a tiny table is cheaper to scan: ask whether the index can serve it at all
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters in statements:
            plan_rows = connection.exec_driver_sql(
                ("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + statement, parameters
            )
            details = " ".join(str(r[-1]) for r in plan_rows)
            assert "ix_subscriptions_platform_tab_id" in details, details
            assert "TEMP B-TREE" not in details and "Sort" not in details, details  # already in order
        db.session.rollback()


# -- actions on one row ---------------------------------------------------------------------


def test_row_actions_record_the_request_and_move_the_row_between_tabs(app, login_as, client):
    plan = ittv_plan(app)
    contract_id = synced(app, plan)
    operator = login_as("operador")
    listed = f"{TV}?aba=ativos&q=maria"

    row = row_html(page(client, listed), contract_id)
    assert "Bloqueio parcial dos pontos deste contrato" in row and "Bloqueio total dos pontos deste contrato" in row
    assert "Desbloqueio dos pontos deste contrato" not in row  # already active
    assert 'data-confirm="Bloqueio parcial dos pontos do contrato' in row  # behind the confirm dialog

    response = press(client, listed, contract_id, "bloqueio-parcial")
    assert response.status_code == 302 and response.headers["Location"] == listed  # back to the same tab and search
    html = page(client, listed)
    assert f"Contrato {contract_id}: Bloqueio parcial solicitado." in flashes(html) and rows(html) == []
    blocked = page(client, f"{TV}?aba=bloqueados")
    assert rows(blocked) == [contract_id]
    row = row_html(blocked, contract_id)
    assert "Bloqueio parcial" in row and "Desbloqueio dos pontos deste contrato" in row
    assert "Bloqueio parcial dos pontos deste contrato" not in row  # already so
    with app.app_context():
        operation = db.session.scalars(db.select(Operation).order_by(Operation.id.desc())).first()
        assert (operation.kind, operation.target_status, operation.requested_by_name) == (
            "set_status",
            "partial_block",
            operator.name,
        )
        event_line = db.session.scalars(db.select(ContractEvent).where(ContractEvent.action == "partial_block")).one()
        assert event_line.actor_name == operator.name and event_line.operation_id == operation.id

    press(client, f"{TV}?aba=bloqueados", contract_id, "bloqueio-total")
    press(client, f"{TV}?aba=bloqueados", contract_id, "desbloqueio")
    assert rows(page(client, TV)) == [contract_id]
    with app.app_context():
        targets = [op.target_status for op in db.session.scalars(db.select(Operation).order_by(Operation.id))]
        assert targets == ["active", "partial_block", "blocked", "active"]

    # A refused action says why, and changes nothing.
    html = post_form(
        client, TV, {"voltar": TV}, f"/integradores/contratos/{contract_id}/desbloqueio", follow_redirects=True
    ).get_data(as_text=True)
    assert f"Contrato {contract_id}: O assinante já está desbloqueado." in flashes(html)


def test_skeelo_rows_offer_block_and_unblock_only(app, login_as, client):
    contract_id = synced(app, skeelo_plan(app), document=CNPJS[0], name="Livraria Ltda")
    login_as("operador")
    html = page(client, LICENCAS)
    row = row_html(html, contract_id)
    assert "Bloquear assinante" in row and "Bloqueio parcial" not in html
    press(client, LICENCAS, contract_id, "bloqueio-total")
    row = row_html(page(client, f"{LICENCAS}?aba=bloqueados"), contract_id)
    assert "Desbloquear assinante" in row and "Bloqueado" in row and "Bloqueio total" not in row  # Skeelo's word
    # Skeelo has no partial block: a forged request is refused by the rules.
    html = post_form(
        client, LICENCAS, {}, f"/integradores/contratos/{contract_id}/bloqueio-parcial", follow_redirects=True
    ).get_data(as_text=True)
    assert "não tem bloqueio parcial" in flashes(html)
    press(client, f"{LICENCAS}?aba=bloqueados", contract_id, "desbloqueio")
    assert rows(page(client, LICENCAS)) == [contract_id]


def test_a_suspended_or_cancelled_row_offers_no_action(app, login_as, client):
    plan = ittv_plan(app)
    suspended = synced(app, plan, document=CPFS[0], then=("suspend",))
    cancelled = synced(app, plan, document=CPFS[1], then=("cancel",))
    login_as("operador")
    html = page(client, f"{TV}?aba=cancelados")
    assert rows(html) == [cancelled, suspended]
    for contract_id in (suspended, cancelled):
        assert "/integradores/contratos/" not in row_html(html, contract_id)
    assert 'id="bulk-form"' not in html  # nothing to apply in this tab


def test_unknown_row_action_or_contract_is_not_found(app, login_as, client):
    contract_id = synced(app, ittv_plan(app))
    login_as("operador")
    token = csrf_token_from(page(client, TV))
    for url in (f"/integradores/contratos/{contract_id}/explodir", "/integradores/contratos/999999/desbloqueio"):
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 404, url
        response.close()


def test_the_way_back_after_an_action_never_leaves_the_site(app, login_as, client):
    contract_id = synced(app, ittv_plan(app))
    login_as("operador")
    response = post_form(
        client, TV, {"voltar": "https://example.com/x"}, f"/integradores/contratos/{contract_id}/bloqueio-total"
    )
    assert response.headers["Location"] == TV


# -- bulk actions ---------------------------------------------------------------------------


def test_bulk_action_applies_to_every_accepted_row_and_names_the_refused(app, login_as, client):
    plan = ittv_plan(app)
    first = synced(app, plan, document=CPFS[0])
    second = synced(app, plan, document=CPFS[1])
    already = synced(app, plan, document=CPFS[2], then=("block",))
    login_as("operador")
    html = page(client, TV)
    assert 'id="bulk-form"' in html and 'data-select-all="bulk-form"' in html
    assert f'name="contratos" value="{first}" form="bulk-form"' in html
    bulk_bar = html.split('id="bulk-form"', 1)[1].split("</form>", 1)[0]
    assert "Bloqueio total dos pontos deste contrato" in bulk_bar and "Desbloqueio" not in bulk_bar

    listed = f"{TV}?aba=ativos"
    response = client.post(
        "/integradores/contratos/em-lote",
        data={
            "csrf_token": csrf_token_from(html),
            "acao": "bloqueio-total",
            "voltar": listed,
            "contratos": [str(first), str(second), str(already)],
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == listed
    message = flashes(page(client, listed))
    assert "2 pedidos registrados; 1 recusado:" in message
    # Where the rows went, with a link to that tab (the platform they share kept).
    assert re.search(
        r'Os assinantes estão agora em <a href="/integradores/tv/clientes\?aba=bloqueados&amp;plataforma=\d+"', message
    )
    assert f"contrato {already}: o assinante já está com bloqueio total" in message
    assert rows(page(client, f"{TV}?aba=bloqueados")) == [already, second, first]
    with app.app_context():
        blocks = db.session.scalars(db.select(Operation).where(Operation.target_status == "blocked")).all()
        assert len(blocks) == 3  # the earlier one and the two just asked


def test_bulk_action_refuses_an_empty_or_oversized_selection_and_bad_input(app, login_as, client):
    contract_id = synced(app, ittv_plan(app))
    login_as("operador")
    token = csrf_token_from(page(client, TV))

    def bulk(**data):
        return client.post("/integradores/contratos/em-lote", data={"csrf_token": token, "voltar": TV, **data})

    assert "Escolha a ação" in flashes(page(client, bulk(contratos=[str(contract_id)]).headers["Location"]))
    assert "Selecione ao menos um assinante." in flashes(page(client, bulk(acao="bloqueio-total").headers["Location"]))
    too_many = [str(contract_id + n) for n in range(501)]
    response = bulk(acao="bloqueio-total", contratos=too_many)
    assert "no máximo 500" in flashes(page(client, response.headers["Location"]))
    assert bulk(acao="bloqueio-total", contratos=["1", "²"]).status_code == 400
    with app.app_context():
        assert db.session.get(Contract, contract_id).subscription.desired_status == "active"


# -- permissions ----------------------------------------------------------------------------


def test_leitura_reads_every_page_without_buttons_and_forged_posts_are_refused(app, login_as, client):
    plan = ittv_plan(app)
    contract_id = synced(app, plan)
    with app.app_context():
        operation_id = db.session.scalar(db.select(Operation.id))
        subscription_id = db.session.scalar(db.select(Subscription.id))
    login_as("leitura")
    subscriber = f"/integradores/assinantes/{subscription_id}"
    fragments = [f"{subscriber}/situacao", f"{subscriber}/pedidos", f"/integradores/operacoes/{operation_id}/situacao"]
    for url in [TV, f"{TV}?aba=bloqueados", LICENCAS, OPERACOES, "/integradores/", *fragments]:
        html = page(client, url)
        for forbidden in (
            "Bloqueio parcial dos pontos deste contrato",
            "Bloqueio total dos pontos deste contrato",
            'name="contratos"',
            'id="bulk-form"',
            "/tentar-novamente",
            "/integradores/contratos/",
        ):
            assert forbidden not in html, (url, forbidden)
    token = csrf_token_from(page(client, "/"))
    for url, data in (
        (f"/integradores/contratos/{contract_id}/bloqueio-total", {}),
        ("/integradores/contratos/em-lote", {"acao": "bloqueio-total", "contratos": [str(contract_id)]}),
        (f"/integradores/operacoes/{operation_id}/tentar-novamente", {}),
    ):
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 403, url
        response.close()
    with app.app_context():
        assert db.session.get(Contract, contract_id).subscription.desired_status == "active"
        assert db.session.scalar(db.select(db.func.count()).select_from(Operation)) == 1


def test_operador_acts_but_cannot_open_the_job_dashboard(app, login_as, client):
    login_as("operador")
    html = page(client, "/integradores/")
    for url in (TV, LICENCAS, OPERACOES):
        assert f'href="{url}' in html
    assert client.get("/rq/").status_code == 403


def test_the_menu_and_the_landing_link_every_screen(app, login_as, client):
    login_as("leitura")
    html = page(client, "/")
    for url in (TV, LICENCAS, OPERACOES, "/configuracoes/plataformas"):
        assert f'href="{url}"' in html, url
    landing = page(client, "/integradores/")
    for url in (
        f"{TV}?aba=ativos",
        f"{TV}?aba=bloqueados",
        f"{TV}?aba=cancelados",
        f"{LICENCAS}?aba=ativos",
        f"{OPERACOES}?situacao=falhas",
    ):
        assert f'href="{url}"' in landing, url
    assert "Em implantação" not in landing


# -- Operações ------------------------------------------------------------------------------


def test_operations_page_filters_by_situation_platform_kind_and_contract(app, login_as, client, monkeypatch):
    tv_plan, sva_plan = ittv_plan(app), skeelo_plan(app)
    tv = synced(app, tv_plan, document=CPFS[0], name="Ana TV", then=("block",))
    sva = synced(app, sva_plan, document=CNPJS[0], name="Livraria Ltda")
    with app.app_context():
        ops = {
            (op.subscription.contract_id, op.kind, op.target_status): op.id
            for op in db.session.scalars(db.select(Operation))
        }
        sync_tv, block_tv, sync_sva = (
            ops[(tv, "sync", "active")],
            ops[(tv, "set_status", "blocked")],
            ops[(sva, "sync", "active")],
        )
        failed = db.session.get(Operation, sync_sva)
        failed.status, failed.last_error = "failed", "Skeelo recusou: e-mail inválido."
        done = db.session.get(Operation, sync_tv)
        done.status, done.result = "done", "ITTV confirmou ACTIVE."
        db.session.commit()
        tv_platform = db.session.get(Contract, tv).platform_id
        sva_platform = db.session.get(Contract, sva).platform_id
    login_as("leitura")

    def listed(query: str = "") -> list[int]:
        return [int(n) for n in re.findall(r'data-operation="(\d+)"', page(client, f"{OPERACOES}{query}"))]

    assert listed() == [sync_sva, block_tv, sync_tv]  # newest first
    assert listed("?situacao=falhas") == [sync_sva]
    assert listed("?situacao=andamento") == [block_tv]
    assert listed("?situacao=concluidas") == [sync_tv]
    assert listed(f"?plataforma={tv_platform}") == [block_tv, sync_tv]
    assert listed(f"?plataforma={sva_platform}&situacao=falhas") == [sync_sva]
    assert listed("?tipo=set_status") == [block_tv]
    assert listed(f"?contrato={tv}") == [block_tv, sync_tv]

    html = page(client, OPERACOES)
    row = html[html.index(f'data-operation="{block_tv}"') :]
    row = row[: row.index("</tr>")]
    for text in (f"Contrato {tv}", "Ana TV", "ITTV demo", "Bloqueio total", "Testes"):
        assert text in row, text
    assert "data-poll-batch" in row  # unfinished: the page follows it
    failed_row = html[html.index(f'data-operation="{sync_sva}"') :]
    assert "Skeelo recusou: e-mail inválido." in failed_row[: failed_row.index("</tr>")]

    monkeypatch.setattr("panel.integradores.views.operations.PAGE_SIZE", 2)
    first = page(client, OPERACOES)
    assert f"antes={block_tv}" in first
    assert listed(f"?antes={block_tv}") == [sync_tv]


def test_a_failed_request_is_shown_everywhere_with_tentar_novamente_which_sends_it_again(
    app, login_as, client, sandbox_for, run_jobs
):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = ittv.contract(app)
    ittv.sandbox.inject("error", status=422, match="POST /alpha/reseller/customer")
    op_id = act(app, contract_id, "sync")
    run_jobs()
    with app.app_context():
        operation = db.session.get(Operation, op_id)
        assert operation.status == "failed"
        error, subscription_id = operation.last_error, operation.subscription_id
    operator = login_as("operador")

    row = row_html(page(client, TV), contract_id)
    assert "Falhou" in row and error in row and "Tentar novamente" in row and "data-poll-batch" not in row
    failures = page(client, f"{OPERACOES}?situacao=falhas")
    assert f'data-operation="{op_id}"' in failures and "Tentar novamente" in failures
    contract_html = page(client, CONTRACT_PAGE.format(contract_id))
    box = contract_html.split('data-testid="subscription-box"', 1)[1].split("</dl>", 1)[0]
    assert "Ativação: <strong>Falhou</strong>" in box and error in box and "Tentar novamente" in box
    assert box.count(error) == 1  # said once: not again as "Último erro"

    # Tentar novamente from the list: back to the list, the request on its way again…
    response = post_form(client, TV, {"voltar": TV}, f"/integradores/operacoes/{op_id}/tentar-novamente")
    assert response.status_code == 302 and response.headers["Location"] == TV
    html = page(client, TV)
    assert f"Operação {op_id}: nova tentativa solicitada." in flashes(html)
    row = row_html(html, contract_id)
    assert "Na fila" in row and "data-poll-batch" in row and "Tentar novamente" not in row
    # …and the polled cell shows the platform's confirmation once the worker ran it.
    run_jobs()
    cell = page(client, f"/integradores/assinantes/{subscription_id}/situacao?voltar={TV}")
    assert cell.lstrip().startswith("<div data-poll-fragment") and "data-poll-batch" not in cell
    assert "Ativo" in cell and "Falhou" not in cell
    [customer] = ittv.sandbox.records()
    assert customer["status"] == "ACTIVE"
    with app.app_context():
        retry_line = db.session.scalars(db.select(ContractEvent).where(ContractEvent.action == "retry")).one()
        assert retry_line.actor_name == operator.name

    # A request that has not failed cannot be sent again.
    html = post_form(
        client, TV, {"voltar": TV}, f"/integradores/operacoes/{op_id}/tentar-novamente", follow_redirects=True
    ).get_data(as_text=True)
    assert "Só é possível tentar de novo uma operação que falhou." in flashes(html)


def test_the_contract_page_follows_its_requests_until_they_finish(app, login_as, client, sandbox_for, run_jobs):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = ittv.contract(app)
    act(app, contract_id, "sync")
    with app.app_context():
        subscription_id = db.session.scalar(db.select(Subscription.id))
    login_as("leitura")
    html = page(client, CONTRACT_PAGE.format(contract_id))
    box = html.split('data-testid="subscription-box"', 1)[1].split(">", 1)[0]
    assert f'data-poll-url="/integradores/assinantes/{subscription_id}/pedidos"' in box
    assert "data-reload-when-done" in box
    assert 'data-testid="desired-status"' in html and 'data-testid="remote-status"' in html
    assert "Ativação: <strong>Na fila</strong>" in html

    run_jobs()
    fragment = page(client, f"/integradores/assinantes/{subscription_id}/pedidos")
    assert fragment.lstrip().startswith("<dl") and "data-poll-fragment" in fragment
    assert "data-poll-url" not in fragment and "Ativação: <strong>Concluída</strong>" in fragment
    remote = fragment.split('data-testid="remote-status">', 1)[1]
    assert remote.startswith("Ativo")


def test_an_open_circuit_is_shown_on_the_lists_and_on_operacoes(app, login_as, client):
    from panel.jobs import circuit

    contract_id = synced(app, ittv_plan(app))
    with app.app_context():
        platform_id = db.session.get(Contract, contract_id).platform_id
        for _ in range(app.config["CIRCUIT_FAILURE_THRESHOLD"]):
            circuit.record_failure(platform_id, "ITTV não respondeu (HTTP 503).")
    login_as("leitura")
    for url in (TV, OPERACOES):
        banner = page(client, url).split('data-testid="circuit-open"', 1)[1].split("</div>", 1)[0]
        assert "Chamadas à ITTV demo pausadas até" in banner and "ITTV não respondeu (HTTP 503)" in banner
    assert 'data-testid="circuit-open"' not in page(client, LICENCAS)  # another platform


def test_state_cells_of_a_missing_record_are_not_found(app, login_as, client):
    login_as("leitura")
    for url in (
        "/integradores/assinantes/999/situacao",
        "/integradores/assinantes/999/pedidos",
        "/integradores/operacoes/999/situacao",
    ):
        assert client.get(url).status_code == 404, url
