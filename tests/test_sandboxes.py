"""The sandboxes themselves: they must refuse what the real platforms refuse, and their fault
and admin endpoints must do what their docstrings say (other tests rely on both)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from validate_docbr import CPF

from tests.sandboxes import PROJECT_ROOT, start_sandbox

KINDS = ["ittv", "skeelo"]


def call(sandbox, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
    token = sandbox.token if token is None else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, sandbox.url + path, headers=headers, timeout=10, **kwargs)


def ittv_customer(**changes) -> dict:
    cpf = CPF().generate()
    return {
        "name": "Maria Teste",
        "cpf": cpf,
        "status": "ACTIVE",
        "phone": "11999990000",
        "email": f"{cpf}@example.com",
        "username": f"{cpf}@example.com",
        "password": cpf,
        "zipcode": "01310100",
        "product": "PLAYHUB-BASICO",
        "address": "Av. Paulista",
        "city": "São Paulo",
        "number": "10",
        "state": "SP",
        **changes,
    }


def skeelo_subscriber(**changes) -> dict:
    cpf = CPF().generate()
    return {
        "external_id": f"ref-{cpf}",
        "name": "João Teste",
        "document": cpf,
        "email": f"{cpf}@example.com",
        "products": ["SKEELO-EBOOKS"],
        **changes,
    }


API_PATH = {"ittv": "/alpha/reseller/product", "skeelo": "/v1/products"}


@pytest.mark.parametrize("kind", KINDS)
def test_the_api_and_the_admin_endpoints_need_the_token(sandbox_for, kind):
    sandbox = sandbox_for(kind)

    for path in (API_PATH[kind], "/_sandbox/subscribers", "/_sandbox/faults"):
        assert call(sandbox, "GET", path, token="").status_code == 401
        assert call(sandbox, "GET", path, token="outro").status_code == 401
        assert call(sandbox, "GET", path).status_code == 200
    assert call(sandbox, "GET", "/_sandbox/health", token="").json() == {"ok": True, "platform": kind}


@pytest.mark.parametrize("kind", KINDS)
def test_faults_hit_only_matching_requests_and_count_down(sandbox_for, kind):
    sandbox = sandbox_for(kind)
    sandbox.inject("error", count=2, status=502, match=f"POST {API_PATH[kind]}")
    sandbox.inject("rate_limit", retry_after=9, match=f"GET {API_PATH[kind]}")

    limited = call(sandbox, "GET", API_PATH[kind])
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "9")
    assert call(sandbox, "GET", API_PATH[kind]).status_code == 200
    assert [f["remaining"] for f in sandbox.pending_faults()] == [2]

    sandbox.admin("DELETE", "/faults")
    assert sandbox.pending_faults() == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "meteoro"},
        {"kind": "slow", "delay": -1},
        {"kind": "error", "status": 200},
        {"kind": "error", "count": "muitas"},
    ],
)
def test_a_fault_that_makes_no_sense_is_refused(sandbox_for, kind, spec):
    sandbox = sandbox_for(kind)
    response = call(sandbox, "POST", "/_sandbox/faults", json=spec)
    assert response.status_code == 422
    assert sandbox.pending_faults() == []


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_routes_answer_in_the_platform_error_format(sandbox_for, kind):
    sandbox = sandbox_for(kind)
    body = call(sandbox, "GET", "/nao/existe").json()
    assert body == {"message": "Recurso não encontrado."} if kind == "ittv" else body["error"]["code"] == "not_found"


def test_ittv_refuses_duplicates_unknown_products_and_bad_status(sandbox_for):
    sandbox = sandbox_for("ittv")
    customer = ittv_customer()
    created = call(sandbox, "POST", "/alpha/reseller/customer", json=customer)
    assert created.status_code == 201 and created.json()["_id"]

    same_cpf = call(sandbox, "POST", "/alpha/reseller/customer", json={**customer, "username": "outro@example.com"})
    assert (same_cpf.status_code, same_cpf.json()["message"]) == (409, "Já existe um cliente com este CPF/CNPJ.")
    same_login = call(sandbox, "POST", "/alpha/reseller/customer", json=ittv_customer(username=customer["username"]))
    assert same_login.status_code == 409
    unknown = call(sandbox, "POST", "/alpha/reseller/customer", json=ittv_customer(product="XPTO"))
    assert (unknown.status_code, unknown.json()["message"]) == (400, "Produto não encontrado: XPTO.")

    without_phone = ittv_customer()
    del without_phone["phone"]
    assert call(sandbox, "POST", "/alpha/reseller/customer", json=without_phone).json() == {
        "message": "O campo 'phone' deve ser enviado (texto)."
    }
    assert call(sandbox, "POST", "/alpha/reseller/customer", json=ittv_customer(zipcode="123")).status_code == 400

    customer_id = created.json()["_id"]
    assert (
        call(sandbox, "PUT", f"/alpha/reseller/customer/{customer_id}/status", json={"status": "BLOCKED"}).status_code
        == 400
    )
    assert (
        call(sandbox, "PUT", f"/alpha/reseller/customer/{customer_id}/order", json={"idProduct": ["x"]}).status_code
        == 400
    )
    assert (
        call(sandbox, "PUT", "/alpha/reseller/customer/nao-existe/status", json={"status": "ACTIVE"}).status_code == 404
    )


def test_ittv_lookup_by_cpf_shows_only_the_public_fields(sandbox_for):
    sandbox = sandbox_for("ittv")
    customer = ittv_customer()
    call(sandbox, "POST", "/alpha/reseller/customer", json=customer)
    call(sandbox, "POST", "/alpha/reseller/customer", json=ittv_customer())

    [found] = call(sandbox, "GET", "/alpha/reseller/customer", params={"cpf": customer["cpf"]}).json()

    assert set(found) == {"_id", "cpf", "email", "status", "product"}
    assert (found["cpf"], found["status"], found["product"]) == (customer["cpf"], "ACTIVE", "PLAYHUB-BASICO")
    assert len(call(sandbox, "GET", "/alpha/reseller/customer").json()) == 2


def test_skeelo_conflict_returns_the_existing_subscriber_and_cancel_is_final(sandbox_for):
    sandbox = sandbox_for("skeelo")
    subscriber = skeelo_subscriber()
    created = call(sandbox, "POST", "/v1/subscribers", json=subscriber).json()
    assert (created["status"], created["products"]) == ("active", ["SKEELO-EBOOKS"])

    again = call(sandbox, "POST", "/v1/subscribers", json=subscriber)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_exists"
    assert again.json()["subscriber"]["id"] == created["id"]

    path = f"/v1/subscribers/{subscriber['external_id']}"
    assert call(sandbox, "PATCH", path, json={"status": "cancelled"}).json()["status"] == "cancelled"
    final = call(sandbox, "PATCH", path, json={"status": "active"})
    assert (final.status_code, final.json()["error"]["code"]) == (409, "subscriber_cancelled")
    # A new contract of the same person is a new subscriber.
    renewed = call(sandbox, "POST", "/v1/subscribers", json={**subscriber, "external_id": "ref-novo"})
    assert renewed.status_code == 201


def test_skeelo_lists_by_status_in_pages(sandbox_for):
    sandbox = sandbox_for("skeelo")
    for n in range(5):
        call(sandbox, "POST", "/v1/subscribers", json=skeelo_subscriber(external_id=f"ref-{n}"))
    call(sandbox, "PATCH", "/v1/subscribers/ref-0", json={"status": "inactive"})

    seen, cursor = [], None
    while True:
        page = call(sandbox, "GET", "/v1/subscribers", params={"limit": 2, "status": "active", "cursor": cursor}).json()
        seen += [item["external_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert seen == ["ref-1", "ref-2", "ref-3", "ref-4"]
    assert call(sandbox, "GET", "/v1/subscribers", params={"cursor": "%%%"}).status_code == 422


def test_skeelo_refuses_unknown_products_and_bad_patches(sandbox_for):
    sandbox = sandbox_for("skeelo")
    unknown = call(sandbox, "POST", "/v1/subscribers", json=skeelo_subscriber(products=["SKEELO-EBOOKS", "XPTO"]))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_product")
    subscriber = skeelo_subscriber()
    call(sandbox, "POST", "/v1/subscribers", json=subscriber)
    path = f"/v1/subscribers/{subscriber['external_id']}"
    assert call(sandbox, "PATCH", path, json={}).status_code == 422
    assert call(sandbox, "PATCH", path, json={"status": "pausado"}).status_code == 422
    assert call(sandbox, "GET", "/v1/subscribers/nao-existe").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_state_survives_a_restart_with_a_state_file(kind, tmp_path):
    state_file = tmp_path / "state.json"
    body = ittv_customer() if kind == "ittv" else skeelo_subscriber()
    path = "/alpha/reseller/customer" if kind == "ittv" else "/v1/subscribers"
    first = start_sandbox(kind, tmp_path, token="t-1", extra=("--state-file", str(state_file)))
    try:
        assert call(first, "POST", path, json=body).status_code == 201
    finally:
        first.stop()
    second = start_sandbox(kind, tmp_path, token="t-2", extra=("--state-file", str(state_file)))
    try:
        assert len(second.records()) == 1
    finally:
        second.stop()


@pytest.mark.parametrize("kind", [*KINDS, "watch"])
def test_the_command_line_requires_a_token(kind):
    result = subprocess.run(
        [sys.executable, "-m", f"sandbox.{kind}", "--port", "0"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 2
    assert "--token" in result.stderr


def test_the_sandbox_server_turns_nagle_off_on_every_connection():
    import socket

    from sandbox.common import _NoDelayServer
    from sandbox.ittv import create_app

    server = _NoDelayServer("127.0.0.1", 0, create_app("t"))
    try:
        with socket.create_connection(("127.0.0.1", server.server_port)):
            accepted, _ = server.get_request()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        server.server_close()


def test_a_token_starting_with_a_dash_is_taken_as_the_token(tmp_path):
    # Generated tokens (token_urlsafe) start with "-" now and then.
    sandbox = start_sandbox("skeelo", tmp_path, token="-tok-" + "x" * 20)
    try:
        assert (
            sandbox.session.get(
                f"{sandbox.url}/v1/products", timeout=10, headers={"Authorization": f"Bearer {sandbox.token}"}
            ).status_code
            == 200
        )
    finally:
        sandbox.stop()


@pytest.mark.parametrize("kind", KINDS)
def test_an_ignore_fault_answers_as_applied_but_changes_nothing(sandbox_for, kind):
    sandbox = sandbox_for(kind)
    if kind == "ittv":
        created = call(sandbox, "POST", "/alpha/reseller/customer", json=ittv_customer())
        key = created.json()["_id"]
        change = ("PUT", f"/alpha/reseller/customer/{key}/status", {"status": "INACTIVE"})
        field, before = "status", "ACTIVE"
    else:
        body = skeelo_subscriber()
        assert call(sandbox, "POST", "/v1/subscribers", json=body).status_code == 201
        key = body["external_id"]
        change = ("PATCH", f"/v1/subscribers/{key}", {"status": "inactive"})
        field, before = "status", "active"
    sandbox.inject("ignore", match=f"{change[0]} {change[1]}")
    answer = call(sandbox, change[0], change[1], json=change[2])
    assert answer.status_code == 200  # the platform says it did it...
    [record] = sandbox.records()
    assert record[field] == before  # ...and did not
    assert call(sandbox, change[0], change[1], json=change[2]).status_code == 200  # the fault was used up
    [record] = sandbox.records()
    assert record[field] != before


# -- Watch Brasil: OAuth, the envelope, tickets ----------------------------------------------------


def watch_token(sandbox) -> str:
    client_id, _, secret = sandbox.token.partition(":")
    code = requests.post(
        sandbox.url + "/watch/v1/oauth/authenticate",
        data={"client_id": client_id, "redirect_url": "x", "approval_prompt": "false", "uid": secret},
        timeout=10,
    ).json()["Result"]["code"]
    granted = requests.post(
        sandbox.url + "/oauth/token",
        data={"client_id": client_id, "client_secret": secret, "code": code, "grant_type": "password"},
        timeout=10,
    ).json()
    assert granted["HasError"] is False
    return granted["Result"][0]["access_token"]


def watch_insert(sandbox, token: str, **changes) -> requests.Response:
    form = {"pEmail": "ana@example.com", "pName": "Ana", "pPhone": "", "pPacote": "101", "pAssinanteIDIntegracao": "r1"}
    return call(sandbox, "POST", "/watch/v2/assinantes/insert", token=token, data={**form, **changes})


def test_watch_api_needs_an_issued_token_and_admin_needs_the_credentials(sandbox_for):
    sandbox = sandbox_for("watch")
    token = watch_token(sandbox)

    assert call(sandbox, "GET", "/watch/v1/pacotes/list", token=sandbox.token).status_code == 401
    listed = call(sandbox, "GET", "/watch/v1/pacotes/list", token=token).json()
    assert listed["Result"]["list"][0] == {"IDPacote": 101, "Nome": "Watch Básico"}
    assert call(sandbox, "GET", "/_sandbox/subscribers", token=token).status_code == 401
    assert call(sandbox, "GET", "/_sandbox/subscribers").status_code == 200


def test_watch_wrong_credentials_and_reused_codes_are_refusals_with_http_200(sandbox_for):
    sandbox = sandbox_for("watch")
    client_id, _, secret = sandbox.token.partition(":")
    wrong = requests.post(
        sandbox.url + "/watch/v1/oauth/authenticate", data={"client_id": client_id, "uid": "x"}, timeout=10
    )
    assert wrong.status_code == 200
    assert (wrong.json()["HasError"], wrong.json()["IsValidationError"]) == (True, True)


def test_watch_tokens_expire_on_demand_and_with_their_lifetime(sandbox_for):
    sandbox = sandbox_for("watch")
    token = watch_token(sandbox)
    sandbox.admin("POST", "/tokens/expire")
    expired = call(sandbox, "GET", "/watch/v1/pacotes/list", token=token)
    assert expired.status_code == 401 and expired.json()["HasError"] is True

    sandbox.admin("PUT", "/tokens/lifetime", json={"seconds": 0})
    assert call(sandbox, "GET", "/watch/v1/pacotes/list", token=watch_token(sandbox)).status_code == 401
    assert sandbox.admin("GET", "/tokens").json()["issued"] >= 2


def test_watch_one_ticket_per_email_and_package_updates_and_deletes(sandbox_for):
    sandbox = sandbox_for("watch")
    token = watch_token(sandbox)

    ticket = watch_insert(sandbox, token).json()["Result"]["ticket"]
    again = watch_insert(sandbox, token, pEmail="ANA@example.com").json()
    assert again["HasError"] and again["Messages"] == ["Assinante já possui ticket para este pacote"]
    assert watch_insert(sandbox, token, pPacote="999").json()["IsValidationError"] is True
    assert watch_insert(sandbox, token, pPacote="102").json()["HasError"] is False

    found = call(
        sandbox,
        "GET",
        "/watch/v2/tickets/get",
        token=token,
        params={"pPacote": "101", "pEmailUsuario": "ana@EXAMPLE.com"},
    ).json()["Result"]["list"]
    assert [t["Ticket"] for t in found] == [ticket]
    updated = call(
        sandbox, "POST", "/watch/v1/tickets/updatestatus", token=token, data={"pTicket": ticket, "pStatus": "false"}
    )
    assert updated.json() == {"HasError": False, "IsValidationError": False, "Messages": [], "Result": None}
    refused = call(
        sandbox, "POST", "/watch/v1/tickets/delete", token=token, data={"pTicket": ticket, "pEmail": "outro@x.com"}
    )
    assert refused.json()["IsValidationError"] is True
    call(
        sandbox, "POST", "/watch/v1/tickets/delete", token=token, data={"pTicket": ticket, "pEmail": "ana@example.com"}
    )
    page = call(sandbox, "GET", "/watch/v2/tickets/get", token=token, params={"pPagina": "1"}).json()["Result"]["list"]
    assert [t["IDPacote"] for t in page] == [102]
    assert (
        call(sandbox, "GET", "/watch/v2/tickets/get", token=token, params={"pPagina": "2"}).json()["Result"]["list"]
        == []
    )


def test_watch_faults_answer_the_envelope_and_out_of_band_edits_work(sandbox_for):
    sandbox = sandbox_for("watch")
    token = watch_token(sandbox)
    ticket = watch_insert(sandbox, token).json()["Result"]["ticket"]

    sandbox.inject("error", status=503)
    failed = call(sandbox, "GET", "/watch/v1/pacotes/list", token=token)
    assert failed.status_code == 503 and failed.json()["IsValidationError"] is False
    sandbox.admin("POST", "/envelope-faults", json={"message": "Instável"})
    enveloped = call(sandbox, "GET", "/watch/v1/pacotes/list", token=token)
    assert enveloped.status_code == 200
    assert enveloped.json()["HasError"] is True and enveloped.json()["Messages"] == ["Instável"]

    sandbox.edit(ticket, Ativo=False)
    [record] = sandbox.records()
    assert record["Ativo"] is False


def test_watch_tickets_survive_a_restart_but_tokens_do_not(tmp_path):
    state_file = tmp_path / "watch.json"
    first = start_sandbox("watch", tmp_path, token="cli:sec-1", extra=("--state-file", str(state_file)))
    try:
        token = watch_token(first)
        assert watch_insert(first, token).json()["HasError"] is False
    finally:
        first.stop()
    second = start_sandbox("watch", tmp_path, token="cli:sec-1", extra=("--state-file", str(state_file)))
    try:
        assert len(second.records()) == 1
        assert call(second, "GET", "/watch/v1/pacotes/list", token=token).status_code == 401
    finally:
        second.stop()
