"""What the pages poll while a request is on its way: the lists' rows all at once
(``GET /integradores/estado``: every requested row's fresh fragment in one answer, in a fixed
number of queries, ids validated, role-checked) and the contract page's subscriber box, read in
one consistent moment — a request shown finished always comes with the access it recorded, and a
box that shows anything not final keeps being followed."""

from __future__ import annotations

import re
from contextlib import contextmanager
from html import unescape

import pytest
from sqlalchemy import event, update

from panel.extensions import db
from panel.integradores.views.states import MAX_IDS
from panel.models import Operation, Role, Subscription
from tests.factories import CNPJS, CPFS, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act

TV = "/integradores/tv/clientes"
OPERACOES = "/integradores/operacoes"
ESTADO = "/integradores/estado"
CONTRACT_PAGE = "/financeiro/painel-do-cliente/contratos/{}"


def synced(app, plan_id: int, client_id: int, then: tuple[str, ...] = ()) -> tuple[int, int, int]:
    """A contract of this client, synced (its request recorded, no worker runs it), then the
    given actions: (contract id, subscription id, latest operation id)."""
    contract_id = make_contract(app, client_id, plan_id)
    op_id = act(app, contract_id, "sync")
    for action in then:
        op_id = act(app, contract_id, action)
    with app.app_context():
        subscription_id = db.session.scalar(db.select(Subscription.id).where(Subscription.contract_id == contract_id))
    return contract_id, subscription_id, op_id


def clients(app, n: int) -> list[int]:
    return [make_client(app, document=document, name=f"Cliente {i}") for i, document in enumerate((CPFS + CNPJS)[:n])]


def _finish(conn, op_id: int, subscription_id: int) -> None:
    desired = conn.execute(
        db.select(Subscription.desired_status).where(Subscription.id == subscription_id)
    ).scalar_one()
    conn.execute(update(Subscription).where(Subscription.id == subscription_id).values(remote_status=desired))
    conn.execute(update(Operation).where(Operation.id == op_id).values(status="done", result="ITTV demo confirmou."))


def _engine_and_subscription(app, op_id: int):
    with app.app_context():
        return db.engine, db.session.get(Operation, op_id).subscription_id


def worker_finishes(app, op_id: int) -> None:
    """What the worker commits when the platform confirmed: the operation done and the
    subscriber's confirmed status, in one transaction (on a connection of its own)."""
    engine, subscription_id = _engine_and_subscription(app, op_id)
    with engine.begin() as conn:
        _finish(conn, op_id, subscription_id)


@contextmanager
def statements(app):
    """The SQL statements sent while inside (an engine listener, as the list's query test)."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextmanager
def worker_commits_before_operations_are_read(app, op_id: int):
    """The race of the browser test: the worker commits the operation's end (and the status it
    confirmed) just before the request's first statement that reads the operations — after
    whatever the request read of the subscriber before it."""
    engine, subscription_id = _engine_and_subscription(app, op_id)
    state = {"done": False}

    def before(conn, cursor, statement, parameters, context, executemany):
        if state["done"] or not re.search(r"\b(FROM|JOIN) operations\b", statement):
            return
        state["done"] = True
        with engine.begin() as other:
            _finish(other, op_id, subscription_id)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield state
    finally:
        event.remove(engine, "before_cursor_execute", before)


def states(client, **ids) -> dict:
    query = "&".join(f"{group}={','.join(map(str, values))}" for group, values in ids.items())
    response = client.get(f"{ESTADO}?{query}&voltar={TV}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    return response.get_json()


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# -- the batch endpoint -----------------------------------------------------------------------


def test_the_lists_mark_their_unfinished_rows_for_one_request(app, login_as, client):
    plan = ittv_plan(app)
    rows = [synced(app, plan, client_id) for client_id in clients(app, 3)]
    worker_finishes(app, rows[2][2])  # this one is done: not followed
    login_as("leitura")
    html = client.get(TV).get_data(as_text=True)
    followed = re.findall(r'data-poll-batch="([^"]+)" data-poll-group="(\w+)" data-poll-id="(\d+)"', html)
    assert sorted(int(sid) for _, _, sid in followed) == sorted([rows[0][1], rows[1][1]])
    assert {(unescape(url), group) for url, group, _ in followed} == {(f"{ESTADO}?voltar={TV}", "assinantes")}
    assert "data-poll-url" not in html  # no row asks on its own any more

    html = client.get(OPERACOES).get_data(as_text=True)
    followed = re.findall(r'data-poll-batch="([^"]+)" data-poll-group="(\w+)" data-poll-id="(\d+)"', html)
    assert sorted(int(op) for _, _, op in followed) == sorted([rows[0][2], rows[1][2]])
    assert {(unescape(url), group) for url, group, _ in followed} == {(f"{ESTADO}?voltar={OPERACOES}", "operacoes")}


def test_the_batch_answers_each_row_asked_with_its_fresh_state(app, login_as, client):
    plan = ittv_plan(app)
    rows = [synced(app, plan, client_id) for client_id in clients(app, 4)]
    login_as("operador")
    ids = [sid for _, sid, _ in rows]

    answer = states(client, assinantes=[*ids, 999_999])  # one that names nothing is left out
    assert set(answer) == {"assinantes"} and set(answer["assinantes"]) == {str(sid) for sid in ids}
    for sid in ids:
        fragment = answer["assinantes"][str(sid)]
        assert fragment.lstrip().startswith("<div data-poll-fragment") and 'aria-live="polite"' in fragment
        assert f'data-poll-id="{sid}"' in fragment and "Na fila" in text_of(fragment)

    # Two of them end: their fragments say what the platform confirmed and are no longer followed.
    worker_finishes(app, rows[0][2])
    worker_finishes(app, rows[2][2])
    answer = states(client, assinantes=ids)["assinantes"]
    for index, (_, sid, _) in enumerate(rows):
        fragment = answer[str(sid)]
        if index in (0, 2):
            assert "data-poll-batch" not in fragment and text_of(fragment) == "Ativo"
        else:
            assert "data-poll-batch" in fragment and text_of(fragment).startswith("Aguardando confirmação Na fila")

    # Each is the list's own cell, from the same template.
    cells = re.findall(r'<td class="text-wrap state-cell">(.*?)</td>', client.get(TV).get_data(as_text=True), re.S)
    assert sorted(text_of(cell) for cell in cells) == sorted(text_of(html) for html in answer.values())


def test_the_batch_answers_operacoes_rows(app, login_as, client):
    plan = skeelo_plan(app)
    company = make_client(app, document=CNPJS[0], name="Livraria Ltda")
    rows = [synced(app, plan, company) for _ in range(3)]
    login_as("operador")
    op_ids = [op for _, _, op in rows]
    worker_finishes(app, op_ids[1])
    answer = states(client, operacoes=op_ids)
    assert set(answer) == {"operacoes"}
    for op_id in op_ids:
        fragment = answer["operacoes"][str(op_id)]
        assert fragment.lstrip().startswith("<tr data-poll-fragment") and f'data-operation="{op_id}"' in fragment
        if op_id == op_ids[1]:
            assert "data-poll-batch" not in fragment and "Concluída" in text_of(fragment)
        else:
            assert 'data-poll-group="operacoes"' in fragment and "Na fila" in text_of(fragment)


@pytest.mark.parametrize("group", ["assinantes", "operacoes"])
def test_the_batch_reads_a_fixed_number_of_statements_whatever_the_number_of_rows(app, login_as, client, group):
    plan = skeelo_plan(app)
    company = make_client(app, document=CNPJS[0], name="Livraria Ltda")
    rows = [synced(app, plan, company, then=("block",) if n % 2 else ()) for n in range(12)]
    login_as("operador")
    key = 1 if group == "assinantes" else 2

    def counted(n: int) -> int:
        with statements(app) as seen:
            answer = states(client, **{group: [row[key] for row in rows[:n]]})
        assert len(answer[group]) == n
        return len(seen)

    two, twelve = counted(2), counted(12)
    assert twelve == two
    # The login's own reads aside, the rows take one statement (subscribers with their latest
    # requests) or three (operations, their subscribers, the subscribers' latest ids).
    with statements(app) as baseline:
        client.get("/status.json")
    assert twelve - len(baseline) <= (1 if group == "assinantes" else 3), (twelve, len(baseline))


@pytest.mark.parametrize(
    "query",
    [
        "",  # nothing asked
        "assinantes=",
        "assinantes=1,x",
        "assinantes=%D9%A3",  # ٣: not ASCII digits
        "assinantes=0",
        "assinantes=-1",
        f"assinantes={2**31}",
        "assinantes=1,,2",
        "assinantes=1%202",
        "assinantes=1%00",
        "operacoes=" + ",".join(["1"] * (MAX_IDS + 1)),  # too many (repeated or not)
        "assinantes=" + ",".join(map(str, range(1, MAX_IDS + 2))),
        "assinantes=" + "9" * 3000,
    ],
)
def test_the_batch_refuses_ids_that_are_not_ids_or_too_many(login_as, client, query):
    login_as("leitura")
    response = client.get(f"{ESTADO}?{query}")
    assert response.status_code == 400, query


def test_the_batch_takes_up_to_its_limit(app, login_as, client):
    login_as("leitura")
    response = client.get(f"{ESTADO}?assinantes={','.join(map(str, range(1, MAX_IDS + 1)))}")
    assert response.status_code == 200 and response.get_json() == {"assinantes": {}}


def test_the_batch_needs_a_login(app, client):
    response = client.get(f"{ESTADO}?assinantes=1")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert app.view_functions["integradores.poll_states"].required_role is Role.leitura


@pytest.mark.parametrize("role", ["leitura", "operador", "admin"])
def test_every_role_that_reads_the_lists_may_ask(login_as, client, role):
    login_as(role)
    assert client.get(f"{ESTADO}?assinantes=1&operacoes=1").get_json() == {"assinantes": {}, "operacoes": {}}


def test_the_batch_keeps_a_back_url_on_this_site_only(app, login_as, client):
    _, subscription_id, op_id = synced(app, ittv_plan(app), make_client(app))
    with app.app_context():
        operation = db.session.get(Operation, op_id)
        operation.status, operation.last_error = "failed", "ITTV recusou."
        db.session.commit()
    login_as("operador")
    for voltar, expected in ((f"{TV}?aba=ativos", f"{TV}?aba=ativos"), ("https://evil.example/", TV)):
        response = client.get(f"{ESTADO}?assinantes={subscription_id}&voltar={voltar}")
        fragment = response.get_json()["assinantes"][str(subscription_id)]
        assert f'name="voltar" value="{expected}"' in unescape(fragment), fragment


# -- one consistent read -------------------------------------------------------------------------


def test_a_row_read_while_the_worker_commits_is_consistent(app, login_as, client):
    """The worker's commit falls between what the request read of the subscriber and its
    operations: the row must never show the request done with the access not confirmed and
    stop being followed."""
    _, subscription_id, op_id = synced(app, ittv_plan(app), make_client(app))
    login_as("leitura")
    with worker_commits_before_operations_are_read(app, op_id) as race:
        fragment = states(client, assinantes=[subscription_id])["assinantes"][str(subscription_id)]
    assert race["done"]
    followed = "data-poll-batch" in fragment
    assert followed or "Ativo" in text_of(fragment), fragment
    if not followed:
        assert "aguardando confirmação" not in text_of(fragment)
    fragment = states(client, assinantes=[subscription_id])["assinantes"][str(subscription_id)]
    assert "data-poll-batch" not in fragment and "Ativo" in text_of(fragment)

    with worker_commits_before_operations_are_read(app, act(app, _contract_of(app, subscription_id), "block")):
        html = client.get(f"{TV}?aba=bloqueados").get_data(as_text=True)
    cell = html.split('data-testid="subscriber-state"', 1)[1].split("</td>", 1)[0]
    assert "data-poll-batch" in cell or ("Bloqueio total" in text_of(cell) and "ainda não" not in text_of(cell))


def _contract_of(app, subscription_id: int) -> int:
    with app.app_context():
        return db.session.get(Subscription, subscription_id).contract_id


def _box(html: str) -> str:
    start = html.index('data-testid="subscription-box"')
    return html[html.rindex("<dl", 0, start) : html.index("</dl>", start)]


def _box_state(box: str) -> tuple[str, str, bool]:
    remote = text_of(box.split('data-testid="remote-status">', 1)[1].split("</dd>", 1)[0])
    requests = text_of(box.split('data-testid="operation-state">', 1)[1].split("</dd>", 1)[0])
    return remote, requests, "data-poll-url" in box.split(">", 1)[0]


@pytest.mark.parametrize("where", ["page", "fragment"])
def test_the_contract_box_read_while_the_worker_commits_is_consistent(app, login_as, client, where):
    """The bug seen in the browser: the box said *Concluída* while *Confirmada pela plataforma*
    still said "ainda não confirmada", and was no longer followed."""
    contract_id, subscription_id, op_id = synced(app, ittv_plan(app), make_client(app))
    login_as("leitura")
    url = (
        CONTRACT_PAGE.format(contract_id) if where == "page" else f"/integradores/assinantes/{subscription_id}/pedidos"
    )
    with worker_commits_before_operations_are_read(app, op_id) as race:
        response = client.get(url)
    assert race["done"] and response.status_code == 200
    remote, requests, followed = _box_state(_box(response.get_data(as_text=True)))
    if "Concluída" in requests:  # finished: the access it recorded, and nothing more to follow
        assert remote == "Ativo" and not followed, (remote, requests)
    else:  # not final: followed until it is
        assert "Na fila" in requests and followed, (remote, requests)
    # What the page shows next is final.
    remote, requests, followed = _box_state(_box(client.get(url).get_data(as_text=True)))
    assert (remote, requests, followed) == ("Ativo", "Ativação: Concluída — ITTV demo confirmou.", False)


def test_the_contract_page_shows_the_subscriber_as_its_box_read_it(app, login_as, client):
    """The page's other parts (the access note) agree with the box, even when the worker
    committed after the page had loaded the contract."""
    contract_id, _, op_id = synced(app, ittv_plan(app), make_client(app))
    worker_finishes(app, op_id)
    block = act(app, contract_id, "block")
    login_as("leitura")
    with worker_commits_before_operations_are_read(app, block):
        html = client.get(CONTRACT_PAGE.format(contract_id)).get_data(as_text=True)
    remote, requests, followed = _box_state(_box(html))
    note = text_of(html.split('data-testid="access-note">', 1)[1].split("</div>", 1)[0])
    if followed:
        assert "aguardando confirmação" in note or remote == "Bloqueio total"
    else:
        assert remote == "Bloqueio total", (remote, note)
        assert "Acesso do assinante na ITTV demo: Bloqueio total." in note, note


def test_a_box_that_shows_a_request_on_its_way_is_followed(app, login_as, client):
    """In step with the platform but asked again (a second *Sincronizar*): still followed while
    that request runs; a failed latest request is final (Tentar novamente, nothing to follow)."""
    contract_id, subscription_id, op_id = synced(app, ittv_plan(app), make_client(app))
    worker_finishes(app, op_id)
    again = act(app, contract_id, "sync")
    login_as("operador")
    url = f"/integradores/assinantes/{subscription_id}/pedidos"
    remote, requests, followed = _box_state(client.get(url).get_data(as_text=True))
    assert remote == "Ativo" and "Na fila" in requests and followed
    with app.app_context():
        operation = db.session.get(Operation, again)
        operation.status, operation.last_error = "failed", "ITTV recusou."
        db.session.commit()
    fragment = client.get(url).get_data(as_text=True)
    remote, requests, followed = _box_state(fragment)
    assert "Falhou" in requests and not followed and "Tentar novamente" in fragment
