"""Messages that stay and pages usable by keyboard and screen reader, through the pages: the
flashed messages region (roles, close button, no timer), the links that say where a row went
and where to do what a message asks, the error summary of a refused form, the skip link, and
the real wait on a refused (429) request."""

from __future__ import annotations

import html as html_lib
import re

from werkzeug.exceptions import TooManyRequests

from panel.extensions import db
from panel.models import Contract, Role
from panel.security import requires
from tests.conftest import PASSWORD, AuthActions, post_form
from tests.factories import CNPJS, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act

TV = "/integradores/tv/clientes"
LICENCAS = "/integradores/licencas/assinantes"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def messages(html: str) -> list[tuple[str, str]]:
    """The flashed messages shown: (role, inner HTML)."""
    region = html.split('<div id="messages">', 1)[1]
    return [
        (role, text.strip())
        for role, text in re.findall(r'role="(\w+)" data-message>\s*(.*?)\s*<button[^>]*btn-close', region, re.S)
    ]


def links(html: str) -> list[tuple[str, str]]:
    """(href, text) of every link in this HTML, the href unescaped."""
    return [(html_lib.unescape(href), text) for href, text in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', html)]


def synced(app, plan_id: int, **client_data) -> int:
    contract_id = make_contract(app, make_client(app, **client_data), plan_id)
    act(app, contract_id, "sync")
    return contract_id


def platform_of(app, contract_id: int) -> int:
    with app.app_context():
        return db.session.get(Contract, contract_id).platform_id


# -- the messages region ---------------------------------------------------------------------


def test_a_confirmation_is_a_status_and_a_refusal_an_alert_both_closed_only_by_the_operator(app, login_as, client):
    contract_id = synced(app, ittv_plan(app))
    login_as("operador")
    done = post_form(client, TV, {"voltar": TV}, f"/integradores/contratos/{contract_id}/bloqueio-total")
    [(role, text)] = messages(page(client, done.headers["Location"]))
    assert role == "status" and text.startswith(f"Contrato {contract_id}: Bloqueio total solicitado.")
    refused = post_form(client, TV, {"voltar": TV}, f"/integradores/contratos/{contract_id}/bloqueio-total")
    html = page(client, refused.headers["Location"])
    [(role, text)] = messages(html)
    assert role == "alert" and "já está com bloqueio total" in text
    region = html.split('<div id="messages">', 1)[1].split("</main>", 1)[0]
    assert 'aria-label="Fechar mensagem"' in region
    assert "data-bs-delay" not in region and "autohide" not in region  # no timer: it stays until closed


def test_the_skip_link_is_the_first_link_and_leads_to_the_main_content(login_as, client):
    login_as("leitura")
    html = page(client, "/")
    body = html.split("<body", 1)[1]
    first = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body).group(0)
    assert 'href="#content"' in first and "visually-hidden-focusable" in first
    assert "Pular para o conteúdo" in body.split("</a>", 1)[0]
    assert '<main class="container-fluid pb-5" id="content" tabindex="-1">' in html


# -- where the row went, and where to do what a message asks ---------------------------------


def test_a_row_action_says_which_tab_the_row_went_to_with_a_link_that_shows_it(app, login_as, client):
    plan = ittv_plan(app)
    contract_id = synced(app, plan)
    synced(app, plan, document=CNPJS[0], name="Outra Empresa", email="outra@example.com.br")
    login_as("operador")
    listed = f"{TV}?aba=ativos"
    done = post_form(client, listed, {"voltar": listed}, f"/integradores/contratos/{contract_id}/bloqueio-parcial")
    assert done.headers["Location"] == listed  # back where the operator was
    [(role, text)] = messages(page(client, listed))
    assert "O assinante está agora em" in text
    [(href, label)] = links(text)
    assert label == "Assinantes bloqueados"
    platform_id = platform_of(app, contract_id)
    assert href == f"{TV}?aba=bloqueados&plataforma={platform_id}&q={contract_id}"
    shown = page(client, href)
    assert re.findall(r'data-contract="(\d+)" data-testid="subscriber-row"', shown) == [str(contract_id)]


def test_a_polling_request_answered_after_a_post_does_not_take_its_message_back(app, login_as, client):
    """A list polls its rows' states; a poll sent before the operator's POST and answered after
    it carries the session cookie from before: it must not put that cookie back (the browser
    would lose the POST's message)."""
    plan = ittv_plan(app)
    contract_id = synced(app, plan)
    login_as("operador")
    listed = f"{TV}?aba=ativos"
    page(client, listed)
    before = client.get_cookie("painel_session").value
    post_form(client, listed, {"voltar": listed}, f"/integradores/contratos/{contract_id}/bloqueio-parcial")
    # The late poll, with the cookie it was sent with.
    poll = app.test_client()
    poll.set_cookie("painel_session", before)
    answer = poll.get(f"{listed}&_=poll")
    assert answer.status_code == 200
    assert "painel_session" not in answer.headers.get("Set-Cookie", "")
    [(_role, text)] = messages(page(client, listed))
    assert f"Contrato {contract_id}: Bloqueio parcial solicitado." in text


def test_a_licence_row_action_links_to_the_licence_list(app, login_as, client):
    contract_id = synced(app, skeelo_plan(app), document=CNPJS[1], email="leitor@example.com.br")
    login_as("operador")
    done = post_form(client, LICENCAS, {"voltar": LICENCAS}, f"/integradores/contratos/{contract_id}/bloqueio-total")
    [(_role, text)] = messages(page(client, done.headers["Location"]))
    [(href, _label)] = links(text)
    assert href == f"{LICENCAS}?aba=bloqueados&plataforma={platform_of(app, contract_id)}&q={contract_id}"


def test_a_message_never_renders_the_clients_data_as_html(app, login_as, client):
    contract_id = synced(app, ittv_plan(app), name="<b>Maria</b> & Cia")
    login_as("operador")
    html = page(
        client,
        post_form(client, TV, {"voltar": TV}, f"/integradores/contratos/{contract_id}/bloqueio-total").headers[
            "Location"
        ],
    )
    assert "<b>Maria</b>" not in html


def test_cancelling_the_suspension_links_the_unblock_to_the_integradores_row(app, login_as, client):
    contract_id = synced(app, ittv_plan(app))
    act(app, contract_id, "suspend")
    login_as("operador")
    contract_page = f"/financeiro/painel-do-cliente/contratos/{contract_id}"
    response = post_form(client, contract_page, {}, f"{contract_page}/cancelar-suspensao")
    [(role, text)] = messages(page(client, response.headers["Location"]))
    assert role == "status" and "faça o Desbloqueio em Integradores" in re.sub(r"<[^>]+>", "", text)
    [(href, label)] = links(text)
    assert label == "Desbloqueio em Integradores"
    assert href == f"{TV}?aba=bloqueados&plataforma={platform_of(app, contract_id)}&q={contract_id}"
    shown = page(client, href)
    assert re.findall(r'data-contract="(\d+)" data-testid="subscriber-row"', shown) == [str(contract_id)]


def test_a_sync_refused_for_a_switched_off_platform_links_to_that_platform(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    platform_id = platform_of(app, contract_id)
    with app.app_context():
        db.session.get(Contract, contract_id).platform.active = False
        db.session.commit()
    login_as("operador")
    contract_page = f"/financeiro/painel-do-cliente/contratos/{contract_id}"
    html = page(client, contract_page)
    problem = html.split('data-testid="sync-problem"', 1)[1].split("</div>", 1)[0]
    assert [href for href, _text in links(problem)] == [f"/configuracoes/plataformas/{platform_id}"]
    response = post_form(client, contract_page, {}, f"{contract_page}/sincronizar")
    [(role, text)] = messages(page(client, response.headers["Location"]))
    assert role == "alert" and "reative-a em Configurações" in text
    [(href, label)] = links(text)
    assert (
        href == f"/configuracoes/plataformas/{platform_id}"
        and label.startswith("Abrir ")
        and "em Configurações" in label
    )


# -- the error summary -----------------------------------------------------------------------


def test_a_refused_form_starts_with_an_error_summary_linking_to_each_field(login_as, client):
    login_as("leitura")
    html = post_form(client, "/conta/senha", {"current_password": "", "new_password": "", "confirm": "x"}).get_data(
        as_text=True
    )
    summary = re.search(
        r'<div class="alert alert-danger" role="alert" tabindex="-1" data-error-summary>(.*?)</div>', html, re.S
    )
    assert summary, "no error summary"
    assert "Corrija 3 campos" in summary.group(1)
    targets = [href for href, _text in links(summary.group(1))]
    assert targets == ["#current_password", "#new_password", "#confirm"]
    for field in ("current_password", "new_password", "confirm"):
        assert re.search(
            rf'<input[^>]*aria-describedby="{field}-error"[^>]*aria-invalid="true"[^>]*id="{field}"'
            rf'|<input[^>]*aria-invalid="true"[^>]*aria-describedby="{field}-error"[^>]*id="{field}"',
            html,
        ), field
        assert f'id="{field}-error"' in html


def test_the_summary_counts_one_field_in_the_singular_and_links_radio_groups_to_their_first_option(login_as, client):
    login_as("admin")
    html = post_form(client, "/configuracoes/planos/novo", {"step": "1", "name": "Plano"}).get_data(as_text=True)
    summary = html.split("data-error-summary>", 1)[1].split("</div>", 1)[0]
    assert "Corrija 1 campo<" in summary
    assert links(summary) == [("#plan_type-0", "Tipo")]
    assert 'id="plan_type-0"' in html and 'aria-describedby="plan_type-error"' in html


def test_a_refusal_of_the_whole_form_is_in_the_summary_too(make_user, client):
    user = make_user("leitura")
    html = post_form(client, "/login", {"username": user.username, "password": "errada-errada"}).get_data(as_text=True)
    summary = html.split("data-error-summary>", 1)[1].split("</div>\n</div>", 1)[0]
    assert "Usuário ou senha inválidos." in summary and "Corrija" not in summary


# -- the real wait ---------------------------------------------------------------------------


def test_a_refused_request_states_the_real_wait(app, make_app, make_user):
    """(``app`` is requested so that its teardown empties the tables this test writes.)"""
    app = make_app()

    @requires(Role.leitura)
    def slow_down():
        raise TooManyRequests(retry_after=200)

    app.add_url_rule("/devagar", "devagar", slow_down)
    client = app.test_client()
    AuthActions(client).login(make_user("leitura").username, PASSWORD)
    response = client.get("/devagar")
    assert response.status_code == 429 and response.headers["Retry-After"] == "200"
    body = response.get_data(as_text=True)
    assert "Muitas tentativas. Tente de novo em 4 min." in body and "alguns minutos" not in body
