"""Logging in and out, throttling, sessions, password hashing, cookies and headers."""

from __future__ import annotations

import re
import threading
from collections import Counter

import pytest
from argon2 import PasswordHasher

from panel.domain import Actor
from panel.domain import users as users_domain
from panel.extensions import db
from panel.models import AuditEvent, User
from tests.conftest import PASSWORD, AuthActions, csrf_token_from


def test_login_page_has_the_documented_fields(client):
    page = client.get("/login").get_data(as_text=True)
    for field in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert field in page
    assert "Entrar" in page


def test_good_login_redirects_home_and_shows_the_menus(make_user, auth, client):
    user = make_user("operador", name="Ana Operadora")
    response = auth.login(user.username)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Ana Operadora" in page and "Integradores" in page


def test_login_is_case_insensitive_on_the_username(app, make_user, auth):
    user = make_user("leitura", username="carla")
    assert auth.login("  CARLA ").status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is not None


@pytest.mark.parametrize("username,password", [("ninguem", PASSWORD), (None, "senha-errada-000")])
def test_bad_credentials_get_one_generic_message(make_user, auth, client, username, password):
    user = make_user("operador")
    response = auth.login(username or user.username, password)
    assert response.status_code == 200
    assert "Usuário ou senha inválidos." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in


def test_deactivated_user_cannot_log_in(app, make_user, auth):
    user = make_user("operador")
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert auth.login(user.username).status_code == 200


def test_next_parameter_only_leads_inside_the_panel(make_user, client):
    user = make_user("admin")
    auth = AuthActions(client)
    token = auth.csrf_token()
    response = client.post(
        "/login?next=/configuracoes/usuarios",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/configuracoes/usuarios"
    auth.logout()
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        token = auth.csrf_token()
        response = client.post(
            f"/login?next={evil}", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.headers["Location"] == "/", evil
        auth.logout()


def test_anonymous_page_visit_returns_there_after_login(make_user, client):
    make_user("admin")
    response = client.get("/configuracoes/usuarios")
    assert response.headers["Location"] == "/login?next=/configuracoes/usuarios"


def test_login_and_logout_are_audited_with_the_address(app, make_user, client):
    user = make_user("operador")
    auth = AuthActions(client)
    token = auth.csrf_token()
    client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    auth.logout()
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.actor_id == user.id))
        actions = [(event.action, event.ip) for event in events]
    assert ("auth.login", "203.0.113.9") in actions
    assert any(action == "auth.logout" for action, _ in actions)


# --- throttling -------------------------------------------------------------------------------


def _attempt(client, username, password, ip):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_five_wrong_passwords_in_a_row_slow_down_that_user_from_that_address(make_user, client):
    user = make_user("operador")
    for _ in range(5):
        assert _attempt(client, user.username, "errada-errada", "198.51.100.1").status_code == 200
    response = _attempt(client, user.username, PASSWORD, "198.51.100.1")  # even the right password
    assert response.status_code == 429
    assert "Muitas tentativas" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    # The same person at another address is not locked out by someone guessing elsewhere.
    assert _attempt(client, user.username, PASSWORD, "198.51.100.2").status_code == 302


def test_guesses_spread_over_many_addresses_slow_that_user_down(make_app, make_user):
    app = make_app(LOGIN_LIMIT_PER_USER="4 per 5 minutes")
    client = app.test_client()
    user = make_user("operador")
    for attempt in range(4):
        assert _attempt(client, user.username, "errada-errada", f"203.0.113.{attempt}").status_code == 200
    assert _attempt(client, user.username, PASSWORD, "203.0.113.99").status_code == 429


def test_one_address_trying_many_usernames_is_slowed_down(make_app, make_user):
    app = make_app(LOGIN_LIMIT_PER_IP="6 per 5 minutes")
    client = app.test_client()
    for number in range(6):
        assert _attempt(client, f"quem-{number}", "errada-errada", "192.0.2.10").status_code == 200
    other = make_user("operador")
    assert _attempt(client, other.username, PASSWORD, "192.0.2.10").status_code == 429
    assert _attempt(client, other.username, PASSWORD, "192.0.2.11").status_code == 302  # another address


def test_a_good_login_does_not_reset_the_address_counter(make_app, make_user):
    """Otherwise one valid account would launder guesses at every other one."""
    app = make_app(LOGIN_LIMIT_PER_IP="6 per 5 minutes")
    client, mine = app.test_client(), make_user("operador")
    for number in range(3):
        _attempt(client, f"alvo-{number}", "errada-errada", "192.0.2.50")
    assert _attempt(client, mine.username, PASSWORD, "192.0.2.50").status_code == 302
    AuthActions(client).logout()
    for number in range(3, 6):
        _attempt(client, f"alvo-{number}", "errada-errada", "192.0.2.50")
    assert _attempt(client, mine.username, PASSWORD, "192.0.2.50").status_code == 429


def test_expired_forms_do_not_count_as_failed_logins(make_user, client):
    user = make_user("operador")
    for _ in range(6):
        response = client.post(
            "/login", data={"username": user.username, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "192.0.2.60"}
        )
        assert response.status_code == 400
    assert _attempt(client, user.username, PASSWORD, "192.0.2.60").status_code == 302


def test_refused_logins_are_audited(app, make_user, client):
    user = make_user("operador")
    _attempt(client, user.username, "errada-errada", "192.0.2.70")
    _attempt(client, "ninguem-aqui", "errada-errada", "192.0.2.70")
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "auth.login_refused")).all()
        refused = {(event.actor_name, event.summary, event.ip) for event in events}
    assert (user.name, "Login recusado: senha incorreta.", "192.0.2.70") in refused
    assert ("(usuário desconhecido)", "Login recusado: usuário inexistente.", "192.0.2.70") in refused
    assert not any("errada-errada" in str(item) or "ninguem-aqui" in str(item) for item in refused)


def test_a_good_login_ends_the_run_of_failures(make_user, client):
    """ "In a row": four typos, then the right password, then four more typos are not throttled."""
    user = make_user("operador")
    auth = AuthActions(client)
    for _ in range(4):
        assert _attempt(client, user.username, "errada-errada", "192.0.2.40").status_code == 200
    assert _attempt(client, user.username, PASSWORD, "192.0.2.40").status_code == 302
    auth.logout()
    for _ in range(4):
        assert _attempt(client, user.username, "errada-errada", "192.0.2.40").status_code == 200
    assert _attempt(client, user.username, PASSWORD, "192.0.2.40").status_code == 302


def test_successful_logins_do_not_add_up_for_the_username(make_user, client):
    user = make_user("leitura")
    auth = AuthActions(client)
    for _ in range(7):
        assert _attempt(client, user.username, PASSWORD, "192.0.2.20").status_code == 302
        auth.logout()


def test_a_good_login_keeps_its_place_at_the_address(make_app, make_user):
    """Every attempt is counted before its password is known; a good login then ends the
    username's run but keeps its place in the address's window."""
    app = make_app(LOGIN_LIMIT_PER_IP="3 per 5 minutes")
    client, user = app.test_client(), make_user("leitura")
    for _ in range(3):
        assert _attempt(client, user.username, PASSWORD, "192.0.2.21").status_code == 302
        AuthActions(client).logout()
    assert _attempt(client, user.username, PASSWORD, "192.0.2.21").status_code == 429
    assert _attempt(client, user.username, PASSWORD, "192.0.2.22").status_code == 302


@pytest.mark.parametrize("counters", ["redis", "in the process (Redis down)"])
def test_parallel_wrong_guesses_check_no_more_passwords_than_the_limit(app, make_app, make_user, counters):
    """Forty guesses sent at once from one address: each attempt takes its place in the throttle
    (atomically) before its password is checked, so five are checked and 35 wait."""
    if counters != "redis":
        app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    user = make_user("operador")
    with app.app_context():  # a slower hash, so that the checks overlap as they would in production
        db.session.get(User, user.id).password_hash = PasswordHasher(time_cost=2, memory_cost=4096, parallelism=1).hash(
            PASSWORD
        )
        db.session.commit()
    clients = [app.test_client() for _ in range(40)]
    tokens = [csrf_token_from(each.get("/login").get_data(as_text=True)) for each in clients]
    start, statuses = threading.Barrier(len(clients)), []

    def guess(each, token):
        start.wait()
        response = each.post(
            "/login",
            data={"username": user.username, "password": "errada-errada", "csrf_token": token},
            environ_base={"REMOTE_ADDR": "198.51.100.40"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        checked = db.session.scalar(
            db.select(db.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "auth.login_refused", AuditEvent.actor_id == user.id)
        )
    assert checked == 5
    assert Counter(statuses) == {200: 5, 429: 35}
    assert _attempt(app.test_client(), user.username, PASSWORD, "198.51.100.40").status_code == 429


def test_a_throttled_login_keeps_the_form_and_states_the_wait(make_user, client):
    user = make_user("operador")
    for _ in range(5):
        _attempt(client, user.username, "errada-errada", "198.51.100.5")
    response = _attempt(client, user.username, PASSWORD, "198.51.100.5")
    assert response.status_code == 429
    assert 290 < int(response.headers["Retry-After"]) <= 300  # the oldest of the five frees its place
    page = response.get_data(as_text=True)
    assert "Muitas tentativas. Tente de novo em 5 min." in page
    summary = page.split('role="alert" tabindex="-1" data-error-summary>', 1)[1]  # read first, and focused
    assert summary.split("</div>", 1)[0].strip() == "<div>Muitas tentativas. Tente de novo em 5 min."
    assert re.search(rf'name="username"[^>]*value="{user.username}"', page)  # what was typed is kept
    assert 'name="password"' in page and 'name="csrf_token"' in page and "Entrar" in page
    assert "Usuário ou senha inválidos." not in page
    # The form on that page works once the wait is over (here: another address, not throttled).
    token = csrf_token_from(page)
    assert (
        client.post(
            "/login",
            data={"username": user.username, "password": PASSWORD, "csrf_token": token},
            environ_base={"REMOTE_ADDR": "198.51.100.6"},
        ).status_code
        == 302
    )


def test_a_wait_under_a_minute_is_stated_in_seconds(make_app, make_user):
    app = make_app(LOGIN_LIMIT_PER_USER_AND_IP="2 per 40 seconds")
    client, user = app.test_client(), make_user("operador")
    for _ in range(2):
        _attempt(client, user.username, "errada-errada", "198.51.100.7")
    response = _attempt(client, user.username, "errada-errada", "198.51.100.7")
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 30 < wait <= 40
    assert f"Muitas tentativas. Tente de novo em {wait} s." in response.get_data(as_text=True)


def test_throttle_is_kept_in_redis(make_user, client, app):
    user = make_user("leitura")
    _attempt(client, user.username, "errada-errada", "192.0.2.30")
    keys = app.extensions["redis"].keys("*painel:limits*")
    assert keys, "no rate-limit counter in Redis"
    assert not any(user.username.encode() in key for key in keys), "the login must not appear in Redis keys"


# --- sessions --------------------------------------------------------------------------------


def _session_cookie(client, app):
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_logout_invalidates_copies_of_the_session_cookie(make_user, app):
    user = make_user("operador")
    browser = app.test_client()
    AuthActions(browser).login(user.username)
    stolen = _session_cookie(browser, app)
    AuthActions(browser).logout()

    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_password_change_ends_other_sessions_and_keeps_this_one(make_user, app):
    user = make_user("operador")
    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(user.username)
    AuthActions(phone).login(user.username)

    token = csrf_token_from(laptop.get("/conta/senha").get_data(as_text=True))
    response = laptop.post(
        "/conta/senha",
        data={
            "current_password": PASSWORD,
            "new_password": "nova-senha-2026",
            "confirm": "nova-senha-2026",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    assert AuthActions(app.test_client()).login(user.username, "nova-senha-2026").status_code == 302


def test_password_change_refuses_a_wrong_current_password(login_as, client):
    login_as("leitura")
    token = csrf_token_from(client.get("/conta/senha").get_data(as_text=True))
    response = client.post(
        "/conta/senha",
        data={
            "current_password": "nao-e-essa",
            "new_password": "nova-senha-2026",
            "confirm": "nova-senha-2026",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert "Senha atual incorreta." in response.get_data(as_text=True)


def test_deactivation_ends_the_users_sessions_at_once(make_user, app):
    target = make_user("operador")
    victim_browser = app.test_client()
    AuthActions(victim_browser).login(target.username)
    assert victim_browser.get("/").status_code == 200

    admin = make_user("admin")
    with app.app_context():
        users_domain.update_user(
            Actor.for_user(db.session.get(User, admin.id)),
            db.session.get(User, target.id),
            name=target.name,
            role=target.role,
            active=False,
        )
    assert victim_browser.get("/").status_code == 302


def test_admin_password_reset_ends_the_users_sessions(make_user, app):
    target = make_user("operador")
    browser = app.test_client()
    AuthActions(browser).login(target.username)
    admin = make_user("admin")
    with app.app_context():
        users_domain.reset_password(
            Actor.for_user(db.session.get(User, admin.id)), db.session.get(User, target.id), "outra-senha-forte"
        )
    assert browser.get("/").status_code == 302
    # ...and the login page says why instead of just appearing.
    assert "Sua sessão foi encerrada. Entre novamente." in browser.get("/login").get_data(as_text=True)


# --- password hashing ------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes(app, make_user):
    user = make_user("leitura")
    with app.app_context():
        stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_production_hashing_parameters_are_the_argon2_defaults(make_app):
    app = make_app(ARGON2_TIME_COST=None, ARGON2_MEMORY_COST=None, ARGON2_PARALLELISM=None)
    with app.app_context():
        from panel import passwords

        hashed = passwords.hash_password("qualquer-senha")
        assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert passwords.verify_password(hashed, "qualquer-senha")
        assert not passwords.verify_password(hashed, "outra")


def test_an_outdated_hash_is_upgraded_at_the_next_login(app, make_user, auth):
    user = make_user("leitura")
    old = PasswordHasher(time_cost=1, memory_cost=16, parallelism=2).hash(PASSWORD)
    with app.app_context():
        db.session.get(User, user.id).password_hash = old
        db.session.commit()
    assert auth.login(user.username).status_code == 302
    with app.app_context():
        upgraded = db.session.get(User, user.id).password_hash
    assert upgraded != old
    assert ",p=1$" in upgraded  # the app's current parameters


# --- cookies and headers ---------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(make_user, auth):
    user = make_user("leitura")
    response = auth.login(user.username)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http


def test_session_cookie_is_secure_in_production(make_app):
    app = make_app(PANEL_ENV="production", SECRET_KEY="s" * 40)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.test_client() as client:
        response = client.get("/login")
        assert "Secure" in response.headers["Set-Cookie"]
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("url", ["/login", "/"])
def test_security_headers_on_every_page(client, login_as, url):
    if url != "/login":
        login_as("leitura")
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(client, login_as):
    login_as("admin")
    for url in ("/login", "/", "/configuracoes/", "/configuracoes/usuarios"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and "onclick=" not in page, url
        for chunk in page.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), url


# --- error pages -----------------------------------------------------------------------------


def test_not_found_page_is_in_portuguese(login_as, client):
    login_as("leitura")
    response = client.get("/nao-existe")
    assert response.status_code == 404
    assert "Página não encontrada" in response.get_data(as_text=True)


def test_unexpected_error_shows_no_traceback(app, make_app):
    """(``app`` is requested so that its teardown empties the tables this test writes.)"""
    from panel.models import Role
    from panel.security import requires

    app = make_app()

    @requires(Role.leitura)
    def explode():
        raise RuntimeError("segredo interno do servidor")

    app.add_url_rule("/explode", "explode", explode)
    with app.app_context():
        user = users_domain.create_user(
            Actor.system(), username="erro-user", name="Erro", role="leitura", password=PASSWORD
        )
        client = app.test_client()
        AuthActions(client).login(user.username)
        response = client.get("/explode")
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Erro interno" in body
        assert "Traceback" not in body and "segredo interno" not in body


def test_a_session_ends_after_its_lifetime_however_active(make_user, client, app):
    import time as clock

    user = make_user("operador")
    AuthActions(client).login(user.username)
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    with client.session_transaction() as session:
        session["login_at"] = clock.time() - lifetime - 60  # logged in longer ago than allowed
    response = client.get("/status.json")  # the page's own polling does not keep it alive
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Sua sessão expirou. Entre novamente." in client.get("/login").get_data(as_text=True)


def test_post_only_urls_are_not_remembered_as_next(client):
    response = client.get("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_header_injection_in_next_is_ignored(make_user, client):
    user = make_user("admin")
    token = AuthActions(client).csrf_token()
    response = client.post(
        "/login?next=/%0d%0aSet-Cookie:%20x=y",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_login_still_works_when_redis_is_down(make_app, make_user):
    """The throttle falls back to per-process counters; the panel then says Redis is down."""
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    user = make_user("operador")
    client = app.test_client()
    assert AuthActions(client).login(user.username).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "o Redis não responde" in page


def test_the_throttle_counts_in_the_process_when_redis_is_down(make_app, make_user):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    client, user = app.test_client(), make_user("operador")
    for _ in range(5):
        assert _attempt(client, user.username, "errada-errada", "192.0.2.90").status_code == 200
    response = _attempt(client, user.username, PASSWORD, "192.0.2.90")
    assert response.status_code == 429 and 290 < int(response.headers["Retry-After"]) <= 300
    assert _attempt(client, user.username, PASSWORD, "192.0.2.91").status_code == 302
