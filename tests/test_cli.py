"""The CLI commands scripts rely on: create-user, seed-demo."""

from __future__ import annotations

from panel.extensions import db
from panel.models import User
from tests.conftest import AuthActions


def _users(app) -> dict[str, str]:
    with app.app_context():
        return {user.username: user.role for user in db.session.scalars(db.select(User))}


def test_create_user_is_non_interactive_with_password(app, runner):
    result = runner.invoke(args=["create-user", "Maria", "--role", "admin", "--password", "senha-da-maria-1"])
    assert result.exit_code == 0, result.output
    assert "Usuário maria criado" in result.output
    assert _users(app) == {"maria": "admin"}
    assert AuthActions(app.test_client()).login("maria", "senha-da-maria-1").status_code == 302


def test_create_user_prompts_for_the_password_without_it(app, runner):
    result = runner.invoke(args=["create-user", "joao", "--role", "leitura"], input="senha-do-joao-1\nsenha-do-joao-1\n")
    assert result.exit_code == 0, result.output
    assert _users(app) == {"joao": "leitura"}


def test_create_user_refuses_duplicates_and_weak_passwords(app, runner):
    assert runner.invoke(args=["create-user", "ana", "--password", "senha-da-ana-1"]).exit_code == 0
    duplicate = runner.invoke(args=["create-user", "ana", "--password", "outra-senha-1"])
    assert duplicate.exit_code != 0 and "Já existe um usuário com este login." in duplicate.output
    weak = runner.invoke(args=["create-user", "beto", "--password", "123"])
    assert weak.exit_code != 0 and "pelo menos 10 caracteres" in weak.output
    bad_role = runner.invoke(args=["create-user", "caio", "--role", "root", "--password", "senha-do-caio-1"])
    assert bad_role.exit_code != 0
    assert _users(app) == {"ana": "operador"}


def test_seed_demo_is_idempotent_and_creates_one_user_per_role(app, runner):
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert _users(app) == {"admin": "admin", "operador": "operador", "leitura": "leitura"}
    assert "criado" not in second.output
    assert AuthActions(app.test_client()).login("admin", "painel-admin").status_code == 302


def test_seed_demo_refuses_production(make_app):
    production = make_app(PANEL_ENV="production", SECRET_KEY="p" * 40)
    result = production.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "não roda em produção" in result.output


def test_worker_refuses_an_unknown_queue(runner):
    result = runner.invoke(args=["worker", "--queue", "nao-existe", "--burst"])
    assert result.exit_code == 2 and "nao-existe" in result.output
