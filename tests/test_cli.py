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
    result = runner.invoke(
        args=["create-user", "joao", "--role", "leitura"], input="senha-do-joao-1\nsenha-do-joao-1\n"
    )
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
    assert "criado: usuário admin" in first.output and "criado" not in second.output
    assert AuthActions(app.test_client()).login("admin", "painel-admin").status_code == 302


def test_seed_demo_sets_up_both_platforms_a_plan_of_each_type_and_the_reguas(app, runner, instance_path):
    from panel.demo import demo_sandboxes
    from panel.domain.plans import resolved_composition
    from panel.models import BillingRule, Plan, Platform

    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "criado" not in second.output
    with app.app_context():
        platforms = {p.kind: p for p in db.session.scalars(db.select(Platform))}
        sandboxes = {s.kind: s for s in demo_sandboxes(instance_path, {})}
        assert set(platforms) == {"ittv", "skeelo", "watch"}
        for kind, platform in platforms.items():
            assert platform.server_url == sandboxes[kind].url and platform.active
            assert sandboxes[kind].token not in platform.token_ciphertext
        assert {p.code for p in platforms["ittv"].products if p.is_base} == {"PLAYHUB-BASICO"}
        plans = {plan.platform.kind: plan for plan in db.session.scalars(db.select(Plan))}
        assert {kind: plan.plan_type for kind, plan in plans.items()} == {
            "ittv": "tv_ott",
            "skeelo": "sva",
            "watch": "sva",
        }
        assert sorted(p.code for p in plans["watch"].products) == ["101", "102"]  # two packages, two tickets
        for plan in plans.values():
            assert sum(line.value for line in resolved_composition(plan)) == plan.monthly_value
        rules = {(r.action, r.platform.kind, r.days_overdue) for r in db.session.scalars(db.select(BillingRule))}
        assert rules == {("tv_block", "ittv", 15), ("sva_block", "skeelo", 15), ("sva_block", "watch", 15)}
        # A person on the TV/OTT plan and a company on the SVA plan, each with a contract to sync.
        from panel.demo import DEMO_CLIENTS
        from panel.models import Contract

        documents = {document for _, _, document, _, _ in DEMO_CLIENTS}  # (not the Licenças history's)
        contracts = {
            c.plan.platform.kind: c for c in db.session.scalars(db.select(Contract)) if c.client.document in documents
        }
        assert {kind: c.client.kind for kind, c in contracts.items()} == {"ittv": "pf", "skeelo": "pj", "watch": "pf"}
        assert all(c.status == "active" and c.subscription is None and c.client.email for c in contracts.values())


def test_the_seeded_platforms_answer_at_their_sandboxes(app, runner, instance_path, tmp_path, monkeypatch, run_jobs):
    """What `make run` shows: each seeded platform passes Testar conexão against the sandbox
    started with the demo port and token, and its products are the sandbox's whole catalogue."""
    from panel.demo import demo_sandboxes
    from panel.domain import Actor
    from panel.domain.platform_checks import request_task
    from panel.models import Platform, PlatformTask, TaskKind
    from tests.sandboxes import start_sandbox

    base = free_port_pair()
    monkeypatch.setenv("SANDBOX_BASE_PORT", str(base))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    running = [
        start_sandbox(s.kind, tmp_path, token=s.token, port=s.port)
        for s in demo_sandboxes(instance_path, {"SANDBOX_BASE_PORT": str(base)})
    ]
    try:
        with app.app_context():
            for platform in db.session.scalars(db.select(Platform)):
                request_task(Actor.system("Testes"), platform, TaskKind.test_connection)
                request_task(Actor.system("Testes"), platform, TaskKind.sync_products)
        run_jobs()
        with app.app_context():
            results = {
                (t.platform.kind, t.kind): (t.status, t.message) for t in db.session.scalars(db.select(PlatformTask))
            }
    finally:
        for sandbox in running:
            sandbox.stop()
    for kind in ("ittv", "skeelo"):
        assert results[(kind, "test_connection")][0] == "done", results
        assert results[(kind, "sync_products")] == ("done", "Catálogo sincronizado: nenhum produto novo."), results


def test_seed_demo_refuses_production(make_app):
    production = make_app(PANEL_ENV="production", SECRET_KEY="p" * 40)
    result = production.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "não roda em produção" in result.output


def test_worker_refuses_an_unknown_queue(runner):
    result = runner.invoke(args=["worker", "--queue", "nao-existe", "--burst"])
    assert result.exit_code == 2 and "nao-existe" in result.output


def test_reencrypt_secrets_moves_tokens_to_the_newest_key(app, make_app):
    from cryptography.fernet import Fernet

    from panel.domain import Actor
    from panel.domain.platforms import create_platform, token_readable
    from panel.models import Platform

    old_key, new_key = app.config["ENCRYPTION_KEY"], Fernet.generate_key().decode()
    with app.app_context():
        create_platform(
            Actor.system("Testes"),
            kind="ittv",
            code="ITTV",
            name="ITTV",
            server_url="http://127.0.0.1:9",
            token="tok-antigo",
        )
    both = make_app(ENCRYPTION_KEY=f"{new_key},{old_key}")
    result = both.test_cli_runner().invoke(args=["reencrypt-secrets"])
    assert result.exit_code == 0 and "1 token recriptografado" in result.output

    only_new = make_app(ENCRYPTION_KEY=new_key)
    with only_new.app_context():
        platform = db.session.scalars(db.select(Platform)).one()
        assert token_readable(platform)
    unrelated = make_app(ENCRYPTION_KEY=Fernet.generate_key().decode())
    refused = unrelated.test_cli_runner().invoke(args=["reencrypt-secrets"])
    assert refused.exit_code != 0 and "Nenhuma chave de ENCRYPTION_KEY lê o token de: ITTV" in refused.output


def free_port_pair() -> int:
    """A port whose next one is free too (the demo sandboxes take consecutive ports)."""
    import socket

    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            base = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", base + 1))
                except OSError:
                    continue
        return base
    raise RuntimeError("no two consecutive free ports")
