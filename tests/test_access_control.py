"""Deny by default: every URL needs a login, every view a declared role, every POST a CSRF token."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from panel.models import Role
from panel.security import BLUEPRINT_ROLES, PUBLIC_ENDPOINTS
from tests.conftest import csrf_token_from


def concrete_url(app, rule: Rule) -> str:
    """A URL for the rule, with a placeholder value for each argument."""
    values = {}
    for name, converter in rule._converters.items():
        values[name] = 1 if isinstance(converter, NumberConverter) else "x"
    values.update(rule.defaults or {})
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)


def status_of(client, url: str, method: str = "GET"):
    """Status (and redirect target) of a request, closing the response (static files stay open
    otherwise)."""
    response = client.open(url, method=method)
    response.close()
    return response.status_code, response.headers.get("Location", "")


def every_rule(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_url_but_login_and_static_sends_anonymous_users_to_login(app, client):
    checked = 0
    for rule, method in every_rule(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "auth.login":
            continue
        url = concrete_url(app, rule)
        status, location = status_of(client, url, method)
        assert status == 302, f"{method} {url} answered {status}"
        assert location.startswith("/login"), f"{method} {url} → {location}"
        checked += 1
    assert checked >= 20  # the dashboard's URLs included


def test_unknown_urls_also_send_anonymous_users_to_login(client):
    response = client.get("/nao-existe")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_every_view_declares_who_may_use_it(app):
    """A new route without @requires (or @public) would be refused for everyone; this makes the
    omission visible at once instead of in production."""
    undeclared = []
    for endpoint, view in app.view_functions.items():
        if endpoint in PUBLIC_ENDPOINTS or endpoint.rpartition(".")[0] in BLUEPRINT_ROLES:
            continue
        if not getattr(view, "is_public", False) and getattr(view, "required_role", None) is None:
            undeclared.append(endpoint)
    assert undeclared == []


def test_only_the_login_page_is_public(app):
    public = sorted(e for e, v in app.view_functions.items() if getattr(v, "is_public", False))
    assert public == ["auth.login"]


# Who may open which page (GET). The matrix is written out by hand, so a change of access is a
# visible change to this table, not a side effect.
PAGE_MATRIX = [
    ("/", {"leitura", "operador", "admin"}),
    ("/status.json", {"leitura", "operador", "admin"}),
    ("/conta/senha", {"leitura", "operador", "admin"}),
    ("/integradores/", {"leitura", "operador", "admin"}),
    ("/integradores/conciliacao", {"leitura", "operador", "admin"}),
    ("/financeiro/painel-do-cliente/", {"leitura", "operador", "admin"}),
    ("/financeiro/painel-do-cliente/titulos", {"leitura", "operador", "admin"}),
    ("/configuracoes/reguas/simular", {"leitura", "operador", "admin"}),
    ("/configuracoes/reguas/execucoes/hoje", {"leitura", "operador", "admin"}),
    ("/configuracoes/", {"leitura", "operador", "admin"}),
    ("/configuracoes/usuarios", {"admin"}),
    ("/configuracoes/usuarios/novo", {"admin"}),
    ("/configuracoes/auditoria", {"admin"}),
    # CSV exports: who may read the page may export it
    ("/integradores/tv/clientes.csv", {"leitura", "operador", "admin"}),
    ("/integradores/licencas/assinantes.csv", {"leitura", "operador", "admin"}),
    ("/integradores/operacoes.csv", {"leitura", "operador", "admin"}),
    ("/financeiro/painel-do-cliente/clientes.csv", {"leitura", "operador", "admin"}),
    ("/financeiro/painel-do-cliente/titulos.csv", {"leitura", "operador", "admin"}),
    ("/configuracoes/auditoria.csv", {"admin"}),
    ("/rq/", {"admin"}),
    ("/rq/0/view/workers", {"admin"}),
    ("/rq/0/data/queues.json", {"admin"}),
    ("/rq/static/js/jquery-3.5.1.min.js", {"admin"}),
]


@pytest.mark.parametrize("role", ["leitura", "operador", "admin"])
def test_role_page_matrix(login_as, client, role):
    login_as(role)
    for url, allowed in PAGE_MATRIX:
        status, _ = status_of(client, url)
        if role in allowed:
            assert status == 200, f"{role} should open {url}, got {status}"
        else:
            assert status == 403, f"{role} must be refused {url}, got {status}"


@pytest.mark.parametrize("role", ["leitura", "operador", "admin"])
def test_every_get_page_obeys_its_declared_role(app, login_as, client, role):
    """Generated from the url_map: no page answers a role below the one it declares."""
    login_as(role)
    role_enum = Role(role)
    for rule, method in every_rule(app):
        if method != "GET" or rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "auth.login":
            continue
        blueprint = rule.endpoint.rpartition(".")[0]
        view = app.view_functions[rule.endpoint]
        needed = BLUEPRINT_ROLES.get(blueprint) or view.required_role
        status, _ = status_of(client, concrete_url(app, rule))
        if role_enum.includes(needed):
            assert status != 403, f"{role} refused {rule.rule}"
        else:
            assert status == 403, f"{role} reached {rule.rule} ({status})"


@pytest.mark.parametrize("role", ["leitura", "operador"])
def test_forged_admin_post_with_valid_csrf_is_refused(login_as, client, role, app):
    login_as(role)
    token = csrf_token_from(client.get("/conta/senha").get_data(as_text=True))
    response = client.post(
        "/configuracoes/usuarios/novo",
        data={
            "username": "intruso",
            "name": "Intruso",
            "role": "admin",
            "password": "x" * 12,
            "confirm": "x" * 12,
            "csrf_token": token,
        },
    )
    assert response.status_code == 403
    from panel.domain.users import find_by_username

    with app.app_context():
        assert find_by_username("intruso") is None


def test_post_without_csrf_token_is_refused_with_400(login_as, client):
    login_as("admin")
    response = client.post(
        "/configuracoes/usuarios/novo",
        data={"username": "semtoken", "name": "X", "role": "leitura", "password": "y" * 12, "confirm": "y" * 12},
    )
    assert response.status_code == 400
    assert "Formulário expirado" in response.get_data(as_text=True)


def test_logout_is_post_only_and_needs_csrf(login_as, client):
    login_as("leitura")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_menus_a_role_may_not_use_are_hidden(login_as, client):
    login_as("operador")
    page = client.get("/").get_data(as_text=True)
    for menu in ("Integradores", "Financeiro", "Painel do Cliente", "Configurações"):
        assert menu in page
    assert "/configuracoes/usuarios" not in page
    assert "/rq/" not in page


def test_admin_sees_users_and_job_dashboard_in_the_menu(login_as, client):
    login_as("admin")
    page = client.get("/").get_data(as_text=True)
    assert "/configuracoes/usuarios" in page
    assert "/rq/" in page


def test_job_dashboard_refuses_requeue_by_get_and_unknown_instances(login_as, client):
    login_as("admin")
    assert client.get("/rq/requeue/default").status_code == 405
    assert client.get("/rq/7/view/queues").status_code == 404
    assert client.get("/rq/7/data/workers.json").status_code == 404


def test_job_dashboard_actions_need_csrf(login_as, client):
    login_as("admin")
    assert client.post("/rq/queue/default/compact").status_code == 400


def test_a_view_can_be_read_by_one_role_and_changed_by_another(make_app, make_user):
    """@requires(read, write=…): e.g. Configurações that leitura may see but only admin may change."""
    from panel.security import requires
    from tests.conftest import AuthActions

    app = make_app()

    @requires(Role.leitura, write=Role.admin)
    def settings_page():
        return "ok"

    app.add_url_rule("/teste-config", "teste_config", settings_page, methods=["GET", "POST"])
    for role, expected_post in (("leitura", 403), ("operador", 403), ("admin", 200)):
        client = app.test_client()
        user = make_user(role)
        AuthActions(client).login(user.username)
        assert client.get("/teste-config").status_code == 200, role
        token = csrf_token_from(client.get("/conta/senha").get_data(as_text=True))
        assert client.post("/teste-config", data={"csrf_token": token}).status_code == expected_post, role
