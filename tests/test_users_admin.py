"""Configurações → Usuários: the admin creates, edits, deactivates and resets operators."""

from __future__ import annotations

import pytest

from panel.extensions import db
from panel.models import AuditEvent, User
from tests.conftest import AuthActions, csrf_token_from


def _post_form(client, page_url: str, data: dict, post_url: str | None = None, **kwargs):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(post_url or page_url, data={**data, "csrf_token": token}, **kwargs)


def _user(app, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


NEW_USER = {
    "username": "bruno",
    "name": "Bruno Souza",
    "role": "operador",
    "password": "senha-do-bruno-1",
    "confirm": "senha-do-bruno-1",
}


def test_admin_creates_an_operator_who_can_then_log_in(app, login_as, client):
    login_as("admin")
    response = _post_form(
        client, "/configuracoes/usuarios/novo", NEW_USER, environ_base={"REMOTE_ADDR": "203.0.113.50"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/configuracoes/usuarios"
    listing = client.get("/configuracoes/usuarios").get_data(as_text=True)
    assert "Usuário bruno criado." in listing and "Bruno Souza" in listing and "Operador" in listing

    created = _user(app, "bruno")
    assert created.role == "operador" and created.active
    with app.app_context():
        event = db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "user.created", AuditEvent.target_id == str(created.id))
        )
        assert event.actor_name.startswith("Admin-")  # the operator's name (make_user titles it)
        assert event.ip == "203.0.113.50"
        assert "senha-do-bruno-1" not in str(event.changes)

    assert AuthActions(app.test_client()).login("bruno", "senha-do-bruno-1").status_code == 302


def test_bad_input_is_shown_next_to_the_field_and_typed_values_are_kept(login_as, client):
    login_as("admin")
    response = _post_form(
        client,
        "/configuracoes/usuarios/novo",
        {**NEW_USER, "username": "Bruno Souza!", "password": "curta", "confirm": "curta"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "is-invalid" in page
    assert 'value="Bruno Souza"' in page  # the name typed is still there
    assert "letras minúsculas" in page


def test_short_password_is_refused_with_the_minimum_length(login_as, client):
    login_as("admin")
    response = _post_form(client, "/configuracoes/usuarios/novo", {**NEW_USER, "password": "curta", "confirm": "curta"})
    assert "A senha deve ter pelo menos 10 caracteres." in response.get_data(as_text=True)


def test_mismatched_confirmation_is_refused(login_as, client):
    login_as("admin")
    response = _post_form(client, "/configuracoes/usuarios/novo", {**NEW_USER, "confirm": "outra-coisa-123"})
    assert "As senhas não conferem." in response.get_data(as_text=True)


def test_duplicate_login_is_refused(app, login_as, client, make_user):
    make_user("leitura", username="bruno")
    login_as("admin")
    response = _post_form(client, "/configuracoes/usuarios/novo", NEW_USER)
    assert "Já existe um usuário com este login." in response.get_data(as_text=True)
    assert _user(app, "bruno").role == "leitura"


def test_unknown_role_is_refused(login_as, client):
    login_as("admin")
    response = _post_form(client, "/configuracoes/usuarios/novo", {**NEW_USER, "role": "root"})
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)


def test_admin_renames_and_changes_a_role_which_applies_at_once(app, login_as, client, make_user):
    login_as("admin")
    target = make_user("operador")
    their_browser = app.test_client()
    AuthActions(their_browser).login(target.username)

    response = _post_form(client, f"/configuracoes/usuarios/{target.id}", {"name": "Novo Nome", "role": "leitura"})
    assert response.status_code == 302
    changed = _user(app, target.username)
    assert (changed.name, changed.role, changed.active) == ("Novo Nome", "leitura", True)
    # Their session goes on, already with the new role (roles are read on every request).
    assert their_browser.get("/").status_code == 200
    assert "você pode consultar, mas não alterar" in their_browser.get("/").get_data(as_text=True)

    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.updated"))
        assert event.changes == {"name": [target.name, "Novo Nome"], "role": ["operador", "leitura"]}
    audit_page = client.get("/configuracoes/auditoria").get_data(as_text=True)
    assert "<strong>Perfil</strong>: Operador → Leitura" in audit_page


def test_admin_cannot_demote_themselves(app, login_as, client):
    me = login_as("admin")
    page = _post_form(client, f"/configuracoes/usuarios/{me.id}", {"name": me.name, "role": "operador"}).get_data(
        as_text=True
    )
    assert "Você não pode retirar o seu próprio perfil de administrador." in page
    assert _user(app, me.username).role == "admin"


def test_own_edit_page_points_to_change_password_instead_of_reset(login_as, client, make_user):
    me = login_as("admin")
    own = client.get(f"/configuracoes/usuarios/{me.id}").get_data(as_text=True)
    assert "Redefinir senha" not in own and "/conta/senha" in own
    other = make_user("leitura")
    theirs = client.get(f"/configuracoes/usuarios/{other.id}").get_data(as_text=True)
    assert f'data-confirm="Redefinir a senha de {other.username}?' in theirs


def test_user_forms_state_their_rules_up_front(login_as, client):
    login_as("admin")
    page = client.get("/configuracoes/usuarios/novo").get_data(as_text=True)
    assert "começando por letra ou número" in page
    assert "Mínimo de 10 caracteres." in page
    assert 'autocomplete="new-password"' in page


def test_validation_messages_from_the_form_library_are_in_portuguese(login_as, client):
    login_as("admin")
    page = _post_form(client, "/configuracoes/usuarios/novo", {**NEW_USER, "role": "root"}).get_data(as_text=True)
    assert "Not a valid choice" not in page
    assert "inválid" in page.lower()


def test_activation_accepts_only_an_explicit_choice(app, login_as, client, make_user):
    login_as("admin")
    target = make_user("operador")
    for value in ("banana", ""):
        response = _post_form(
            client,
            "/configuracoes/usuarios",
            {"active": value},
            post_url=f"/configuracoes/usuarios/{target.id}/situacao",
        )
        assert response.status_code == 400
    assert _user(app, target.username).active


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0", 400),
        ("-5", 400),
        ("99999999999999999999999", 400),
        ("abc", 200),  # not a number: ignored, the first page
    ],
)
def test_audit_log_refuses_an_impossible_page_key(login_as, client, value, expected):
    login_as("admin")
    assert client.get(f"/configuracoes/auditoria?antes={value}").status_code == expected


def test_the_last_active_admin_cannot_be_removed(app, make_user):
    from panel.domain import Actor, DomainError
    from panel.domain.users import update_user

    only_admin = make_user("admin")
    with app.app_context():
        user = db.session.get(User, only_admin.id)
        try:
            update_user(Actor.system(), user, name=user.name, role="operador", active=True)
        except DomainError as error:
            assert error.message == "O painel precisa de pelo menos um administrador ativo."
        else:
            raise AssertionError("the last admin was demoted")


def test_admin_resets_a_password(app, login_as, client, make_user):
    login_as("admin")
    target = make_user("operador")
    response = _post_form(
        client,
        f"/configuracoes/usuarios/{target.id}",
        {"password": "redefinida-123", "confirm": "redefinida-123"},
        post_url=f"/configuracoes/usuarios/{target.id}/senha",
    )
    assert response.status_code == 302
    assert AuthActions(app.test_client()).login(target.username, "redefinida-123").status_code == 302


def test_reset_password_errors_are_shown_on_the_edit_page(login_as, client, make_user):
    login_as("admin")
    target = make_user("operador")
    response = _post_form(
        client,
        f"/configuracoes/usuarios/{target.id}",
        {"password": "curta", "confirm": "curta"},
        post_url=f"/configuracoes/usuarios/{target.id}/senha",
    )
    assert response.status_code == 422
    assert "A senha deve ter pelo menos 10 caracteres." in response.get_data(as_text=True)


def test_editing_an_unknown_user_is_404(login_as, client):
    login_as("admin")
    assert client.get("/configuracoes/usuarios/999999").status_code == 404


def test_deactivate_and_reactivate_from_the_list_with_confirmation(app, login_as, client, make_user):
    login_as("admin")
    target = make_user("operador")
    listing = client.get("/configuracoes/usuarios").get_data(as_text=True)
    # The button asks before acting (data-confirm drives the shared modal in static/js/app.js).
    assert f'action="/configuracoes/usuarios/{target.id}/situacao"' in listing
    assert f"Desativar o usuário {target.username}?" in listing

    response = _post_form(
        client, "/configuracoes/usuarios", {"active": "0"}, post_url=f"/configuracoes/usuarios/{target.id}/situacao"
    )
    assert response.status_code == 302
    assert f"Usuário {target.username} desativado." in client.get("/configuracoes/usuarios").get_data(as_text=True)
    assert not _user(app, target.username).active
    assert AuthActions(app.test_client()).login(target.username).status_code == 200  # refused

    _post_form(
        client, "/configuracoes/usuarios", {"active": "1"}, post_url=f"/configuracoes/usuarios/{target.id}/situacao"
    )
    assert _user(app, target.username).active
    assert AuthActions(app.test_client()).login(target.username).status_code == 302


def test_admin_cannot_deactivate_themselves_from_the_list(app, login_as, client):
    me = login_as("admin")
    assert f"/configuracoes/usuarios/{me.id}/situacao" not in client.get("/configuracoes/usuarios").get_data(
        as_text=True
    )
    response = _post_form(
        client, "/configuracoes/usuarios", {"active": "0"}, post_url=f"/configuracoes/usuarios/{me.id}/situacao"
    )
    assert response.status_code == 302
    assert "Você não pode desativar o seu próprio usuário." in client.get("/configuracoes/usuarios").get_data(
        as_text=True
    )
    assert _user(app, me.username).active


def test_audit_log_pages_by_keyset(app, login_as, client):
    from panel.domain import Actor
    from panel.domain.audit import record

    login_as("admin")
    with app.app_context():
        for number in range(60):
            record(Actor.system("Régua"), "test.event", f"Evento de teste {number:02d}")
        db.session.commit()
    first = client.get("/configuracoes/auditoria").get_data(as_text=True)
    assert "Evento de teste 59" in first and "Evento de teste 10" in first
    assert "Evento de teste 09" not in first
    next_link = first.split('href="/configuracoes/auditoria?antes=')[1].split('"')[0]
    second = client.get(f"/configuracoes/auditoria?antes={next_link}").get_data(as_text=True)
    assert "Evento de teste 09" in second and "Evento de teste 00" in second
    assert "Evento de teste 10" not in second
    assert "Régua" in second
