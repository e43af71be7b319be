"""Configurações → Operadoras e fornecedores: registering ITTV and Skeelo against their sandboxes,
*Testar conexão* and *Sincronizar produtos* run by a real RQ worker, products, and the token that
never comes back out."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet

from panel.domain import DomainError
from panel.domain.server_urls import check_server_url
from panel.extensions import db
from panel.formats import ngettext
from panel.jobs import circuit
from panel.models import AuditEvent, Platform, PlatformTask, Product
from tests.conftest import post_form

NEW = "/configuracoes/plataformas/nova"


def register(client, sandbox, *, code=None, name=None, token=None, url=None, **extra):
    data = {
        "kind": sandbox.kind,
        "code": code or sandbox.kind.upper(),
        "name": name or f"{sandbox.kind} demo",
        "server_url": url or sandbox.url,
        "token": token or sandbox.token,
        "concurrency_limit": "4",
        "active": "y",
        **extra,
    }
    return post_form(client, NEW, data)


def platform_id_from(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    match = re.fullmatch(r"/configuracoes/plataformas/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def ask(client, platform_id: int, what: str):
    detail = f"/configuracoes/plataformas/{platform_id}"
    return post_form(client, detail, {}, post_url=f"{detail}/{what}")


@pytest.mark.parametrize("kind", ["ittv", "skeelo"])
def test_admin_registers_a_platform_and_tests_the_connection_through_the_worker(
    kind, app, login_as, client, sandbox_for, run_jobs
):
    sandbox = sandbox_for(kind)
    login_as("admin")
    platform_id = platform_id_from(register(client, sandbox))

    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        assert platform.kind == kind and platform.code == kind.upper() and platform.server_url == sandbox.url
        # Encrypted at rest: the column holds a Fernet token, not the platform's token.
        assert sandbox.token not in platform.token_ciphertext
        assert (
            Fernet(app.config["ENCRYPTION_KEY"].encode()).decrypt(platform.token_ciphertext.encode()).decode()
            == sandbox.token
        )

    response = ask(client, platform_id, "testar")
    assert response.status_code == 302
    pending = page(client, f"/configuracoes/plataformas/{platform_id}")
    assert "Na fila" in pending and "data-poll-url" in pending  # the page follows the job by itself

    assert run_jobs() == 1
    detail = text_of(page(client, f"/configuracoes/plataformas/{platform_id}"))
    assert re.search(r"Conexão OK: \d+ produtos? no catálogo\.", detail)
    assert re.search(r"Testada por \S", detail) and "Testar conexão por" not in detail
    # The check really reached the platform, with the token, over HTTP.
    seen = [r for r in sandbox.requests_seen() if r["method"] == "GET"]
    assert seen, "the sandbox saw no request"


def test_a_wrong_token_is_a_clear_failure_and_the_platform_is_not_shown_as_working(
    app, login_as, client, sandbox_for, run_jobs
):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv, token="token-errado-123"))
    ask(client, platform_id, "testar")
    run_jobs()
    detail = text_of(page(client, f"/configuracoes/plataformas/{platform_id}"))
    assert "Falhou:" in detail and "recusou o token (HTTP 401)" in detail
    listing = text_of(page(client, "/configuracoes/plataformas"))
    assert "Falhou" in listing and "OK" not in listing.split("Conexão", 1)[1]


def test_connection_to_a_platform_that_is_down_fails_with_a_message(app, login_as, client, sandbox_for, run_jobs):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    ittv.inject("error", status=503, count=1)
    ask(client, platform_id, "testar")
    run_jobs()
    detail = text_of(page(client, f"/configuracoes/plataformas/{platform_id}"))
    assert "Falhou:" in detail and "HTTP 503" in detail


def test_the_job_carries_only_the_task_id_and_the_token_is_nowhere_in_redis_or_pages(
    app, login_as, client, sandbox_for, run_jobs
):
    skeelo = sandbox_for("skeelo")
    login_as("admin")
    platform_id = platform_id_from(register(client, skeelo))
    ask(client, platform_id, "testar")
    ask(client, platform_id, "sincronizar")

    redis = app.extensions["redis"]
    with app.app_context():
        from panel.jobs.queues import get_queue

        jobs = get_queue("sync").get_jobs()
        tasks = db.session.scalars(db.select(PlatformTask).order_by(PlatformTask.id)).all()
        assert [job.args for job in jobs] == [(task.id,) for task in tasks]
        assert [job.id for job in jobs] == [f"platform-task-{task.id}" for task in tasks]
    dump = b"".join(repr(redis.dump(key)).encode() for key in redis.scan_iter("*") if redis.type(key) != b"none")
    assert skeelo.token.encode() not in dump
    run_jobs()

    urls = [
        "/configuracoes/plataformas",
        f"/configuracoes/plataformas/{platform_id}",
        f"/configuracoes/plataformas/{platform_id}/editar",
        "/configuracoes/auditoria",
        "/configuracoes/",
    ]
    with app.app_context():
        urls += [
            f"/configuracoes/plataformas/{platform_id}/tarefas/{task.id}"
            for task in db.session.scalars(db.select(PlatformTask))
        ]
    for url in urls:
        assert skeelo.token not in page(client, url), url
    # Not echoed either when the form comes back with an error.
    refused = register(client, skeelo, code="SKEELO", name="")
    assert refused.status_code == 200 and skeelo.token not in refused.get_data(as_text=True)
    with app.app_context():
        for event in db.session.scalars(db.select(AuditEvent)):
            assert skeelo.token not in repr(event.changes) and skeelo.token not in event.summary


def test_the_page_says_when_the_token_was_set_and_editing_keeps_it_unless_retyped(
    app, login_as, client, sandbox_for, run_jobs
):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    detail = page(client, f"/configuracoes/plataformas/{platform_id}")
    assert re.search(r"definido em \d{2}/\d{2}/\d{4}", detail)
    with app.app_context():
        before = db.session.get(Platform, platform_id).token_ciphertext

    edit = f"/configuracoes/plataformas/{platform_id}/editar"
    response = post_form(
        client,
        edit,
        {
            "code": "ITTV",
            "name": "ITTV renomeada",
            "server_url": ittv.url + "/",
            "token": "",
            "concurrency_limit": "8",
            "active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        assert platform.name == "ITTV renomeada" and platform.concurrency_limit == 8
        assert platform.token_ciphertext == before and platform.server_url == ittv.url
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "platform.updated")).one()
        assert event.changes == {"name": ["ittv demo", "ITTV renomeada"], "concurrency_limit": [4, 8]}

    # A new server address needs the token typed again: the old one never goes to a new host.
    moved = post_form(
        client,
        edit,
        {
            "code": "ITTV",
            "name": "ITTV",
            "server_url": "http://localhost:1/",
            "token": "",
            "concurrency_limit": "4",
            "active": "y",
        },
    )
    assert moved.status_code == 200
    assert "O servidor mudou: informe o token de novo." in moved.get_data(as_text=True)


def test_the_token_never_reaches_a_log_line(app, login_as, client, sandbox_for, run_jobs, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv, and_test="1"))
    ask(client, platform_id, "sincronizar")
    edit = f"/configuracoes/plataformas/{platform_id}/editar"
    post_form(
        client,
        edit,
        {
            "code": "ITTV",
            "name": "ITTV",
            "server_url": ittv.url,
            "token": "outro-token-secreto",
            "concurrency_limit": "4",
            "active": "y",
            "and_test": "1",
        },
    )
    run_jobs()
    assert "recusou o token" in page(client, f"/configuracoes/plataformas/{platform_id}")
    assert caplog.records, "nothing was logged at all: the check below would be empty"
    assert ittv.token not in caplog.text and "outro-token-secreto" not in caplog.text
    assert ittv.token not in ittv.log_text() and "outro-token-secreto" not in ittv.log_text()


def test_a_changed_encryption_key_is_a_clear_message_not_a_crash(
    app, make_app, login_as, client, sandbox_for, run_jobs
):
    ittv = sandbox_for("ittv")
    admin = login_as("admin")
    platform_id = platform_id_from(register(client, ittv))

    other = make_app(ENCRYPTION_KEY=Fernet.generate_key().decode())
    other_client = other.test_client()
    from tests.conftest import PASSWORD, AuthActions

    assert AuthActions(other_client).login(admin.username, PASSWORD).status_code == 302
    detail = other_client.get(f"/configuracoes/plataformas/{platform_id}")
    assert detail.status_code == 200
    assert "ENCRYPTION_KEY mudou" in detail.get_data(as_text=True)
    ask(other_client, platform_id, "testar")
    run_jobs_with(other)
    after = text_of(other_client.get(f"/configuracoes/plataformas/{platform_id}").get_data(as_text=True))
    assert "Falhou: O token salvo não pode ser lido" in after
    assert not [r for r in ittv.requests_seen() if r["path"].startswith("/alpha")]

    # Rotation: the new key first, the old one after it, and the saved token reads again.
    rotated = make_app(ENCRYPTION_KEY=Fernet.generate_key().decode() + "," + app.config["ENCRYPTION_KEY"])
    with rotated.app_context():
        from panel.domain.platforms import token_readable

        assert token_readable(db.session.get(Platform, platform_id))


def run_jobs_with(app) -> None:
    from panel.jobs.queues import QUEUES, get_queue
    from panel.jobs.worker import PanelWorker

    with app.app_context():
        connection = app.extensions["redis"]
        PanelWorker([get_queue(spec.name, connection) for spec in QUEUES], connection=connection).work(burst=True)


def test_sync_products_imports_the_catalogue_and_says_what_was_added(app, login_as, client, sandbox_for, run_jobs):
    skeelo = sandbox_for("skeelo")
    login_as("admin")
    platform_id = platform_id_from(register(client, skeelo))
    catalogue = {
        item["code"]: item["name"]
        for item in skeelo.session.get(
            f"{skeelo.url}/v1/products", headers={"Authorization": f"Bearer {skeelo.token}"}, timeout=10
        ).json()
    }

    ask(client, platform_id, "sincronizar")
    run_jobs()
    detail = text_of(page(client, f"/configuracoes/plataformas/{platform_id}"))
    assert ngettext("%(num)s produto adicionado", "%(num)s produtos adicionados", len(catalogue)) in detail
    for code in catalogue:
        assert code in detail
    with app.app_context():
        assert {p.code: p.name for p in db.session.scalars(db.select(Product))} == catalogue

    # The platform adds one and renames another; ours has one it does not know.
    skeelo.add_product(code="SKEELO-KIDS", name="Skeelo Kids")
    skeelo.add_product(code="SKEELO-EBOOKS", name="Skeelo Ebooks+")
    post_form(
        client, f"/configuracoes/plataformas/{platform_id}/produtos/novo", {"code": "LOCAL-1", "name": "Só nosso"}
    )
    ask(client, platform_id, "sincronizar")
    run_jobs()
    detail = text_of(page(client, f"/configuracoes/plataformas/{platform_id}"))
    assert "1 produto adicionado; 1 nome atualizado; 1 produto nosso fora do catálogo" in detail
    assert "SKEELO-KIDS Skeelo Kids" in detail and "Skeelo Ebooks → Skeelo Ebooks+" in detail
    with app.app_context():
        assert db.session.scalar(db.select(Product.name).where(Product.code == "SKEELO-EBOOKS")) == "Skeelo Ebooks+"
        assert db.session.scalar(db.select(Product.id).where(Product.code == "LOCAL-1"))  # never removed
        assert db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "product.synced")).all()


def test_a_second_click_while_a_check_is_queued_does_not_queue_another(app, login_as, client, sandbox_for, run_jobs):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    ask(client, platform_id, "testar")
    ask(client, platform_id, "testar")
    assert run_jobs() == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PlatformTask)) == 1


def test_save_and_test_in_one_click(app, login_as, client, sandbox_for, run_jobs):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv, and_test="1"))
    assert run_jobs() == 1
    assert "Conexão OK" in page(client, f"/configuracoes/plataformas/{platform_id}")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("server_url", "ftp://exemplo.com", "A URL deve começar com http:// ou https://."),
        ("server_url", "https://user:senha@exemplo.com", "Não coloque usuário ou senha na URL"),
        ("server_url", "https://exemplo.com/api?x=1", "não leva parâmetros"),
        ("server_url", "exemplo.com", "A URL deve começar com http:// ou https://."),
        ("code", "c", "Use de 2 a 32 caracteres"),
        ("token", "tem espaço no meio", "caracteres inválidos"),
        ("concurrency_limit", "0", "Informe um número de 1 a 64."),
        ("kind", "netflix", "Escolha inválida"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_keeping_what_was_typed(
    field, value, message, app, login_as, client, sandbox_for
):
    ittv = sandbox_for("ittv")
    login_as("admin")
    response = register(client, ittv, **{field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html
    assert 'value="ittv demo"' in html  # the rest of what was typed is still there
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Platform)) == 0


def test_duplicate_code_is_refused(app, login_as, client, sandbox_for):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id_from(register(client, ittv))
    response = register(client, ittv, code="ittv")
    assert "Já existe uma plataforma com este código." in response.get_data(as_text=True)


def test_production_allows_only_https_hosts_on_the_allowlist(make_app):
    production = make_app(PANEL_ENV="production", PLATFORM_ALLOWED_HOSTS=None)
    with production.app_context():
        assert check_server_url("https://api-resellers.ittv.com.br/") == "https://api-resellers.ittv.com.br"
        for url in (
            "http://127.0.0.1:5101",
            "https://169.254.169.254/latest",
            "https://localhost",
            "https://api-resellers.ittv.com.br.evil.com",
            "http://api-resellers.ittv.com.br",
        ):
            with pytest.raises(DomainError):
                check_server_url(url)
    listed = make_app(PANEL_ENV="production")
    listed.config["PLATFORM_ALLOWED_HOSTS"] = ("*.skeelo.com.br",)
    with listed.app_context():
        assert check_server_url("https://api.skeelo.com.br/v1") == "https://api.skeelo.com.br/v1"
        with pytest.raises(DomainError, match="PLATFORM_ALLOWED_HOSTS"):
            check_server_url("https://skeelo.com.br.internal")


def test_production_refuses_a_bare_wildcard_allowlist(tmp_path):
    from panel.config import ConfigError, load_config

    env = {
        "PANEL_ENV": "production",
        "SECRET_KEY": "x" * 40,
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": "sqlite://",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PLATFORM_ALLOWED_HOSTS": "*",
    }
    with pytest.raises(ConfigError, match="PLATFORM_ALLOWED_HOSTS"):
        load_config(env, tmp_path)
    for bad in ("?*", "[a-z]*", "*.*", "http://api.skeelo.com.br", "api.*.com"):
        with pytest.raises(ConfigError, match="PLATFORM_ALLOWED_HOSTS"):
            load_config({**env, "PLATFORM_ALLOWED_HOSTS": bad}, tmp_path)
    assert load_config({**env, "PLATFORM_ALLOWED_HOSTS": "api.skeelo.com.br, *.ittv.com.br"}, tmp_path)[
        "PLATFORM_ALLOWED_HOSTS"
    ] == ("api.skeelo.com.br", "*.ittv.com.br")


def test_a_url_allowed_when_saved_but_not_any_more_is_refused_by_the_job(app, login_as, client, sandbox_for, run_jobs):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    app.config["PLATFORM_ALLOWED_HOSTS"] = ("api-resellers.ittv.com.br",)
    try:
        ask(client, platform_id, "testar")
        run_jobs()
    finally:
        app.config["PLATFORM_ALLOWED_HOSTS"] = ("*",)
    assert "não está entre os permitidos" in page(client, f"/configuracoes/plataformas/{platform_id}")
    assert not ittv.requests_seen()


# -- products --------------------------------------------------------------------------------


def test_products_are_added_edited_and_removed_by_hand(app, login_as, client, sandbox_for):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    new = f"/configuracoes/plataformas/{platform_id}/produtos/novo"
    assert post_form(client, new, {"code": "PLAYHUB-BASICO", "name": "Básico", "is_base": "y"}).status_code == 302
    duplicate = post_form(client, new, {"code": "PLAYHUB-BASICO", "name": "De novo"})
    assert "Esta plataforma já tem um produto com este código." in duplicate.get_data(as_text=True)
    blank = post_form(client, new, {"code": "", "name": "Sem código"})
    assert "Informe o código." in blank.get_data(as_text=True) and 'value="Sem código"' in blank.get_data(as_text=True)

    with app.app_context():
        product = db.session.scalars(db.select(Product)).one()
        assert product.is_base and product.name == "Básico"
        product_id = product.id
    edit = f"/configuracoes/produtos/{product_id}/editar"
    assert post_form(client, edit, {"code": "PLAYHUB-BASICO", "name": "PlayHub Básico"}).status_code == 302
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product.name == "PlayHub Básico" and not product.is_base
    detail = f"/configuracoes/plataformas/{platform_id}"
    assert post_form(client, detail, {}, post_url=f"/configuracoes/produtos/{product_id}/remover").status_code == 302
    with app.app_context():
        assert db.session.get(Product, product_id) is None
        actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
        assert [a for a in actions if a.startswith("product")] == [
            "product.created",
            "product.updated",
            "product.deleted",
        ]


def test_skeelo_products_have_no_base_flag(app, login_as, client, sandbox_for):
    skeelo = sandbox_for("skeelo")
    login_as("admin")
    platform_id = platform_id_from(register(client, skeelo))
    new = f"/configuracoes/plataformas/{platform_id}/produtos/novo"
    assert "Pacote base" not in page(client, new)
    assert post_form(client, new, {"code": "SK-1", "name": "Um", "is_base": "y"}).status_code == 302
    with app.app_context():
        assert not db.session.scalars(db.select(Product)).one().is_base


# -- roles -----------------------------------------------------------------------------------


def test_leitura_reads_without_buttons_and_cannot_change_anything(app, login_as, client, make_user, sandbox_for):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})

    login_as("leitura")
    listing = page(client, "/configuracoes/plataformas")
    detail = page(client, f"/configuracoes/plataformas/{platform_id}")
    assert "ittv demo" in listing and "definido em" in detail
    for button in ("Testar conexão</button>", "Sincronizar produtos</button>", "Editar", "Cadastrar operadora"):
        assert button not in detail + listing
    token = csrf_from(client, f"/configuracoes/plataformas/{platform_id}")
    for url in (
        f"/configuracoes/plataformas/{platform_id}/testar",
        f"/configuracoes/plataformas/{platform_id}/sincronizar",
        f"/configuracoes/plataformas/{platform_id}/remover",
        f"/configuracoes/plataformas/{platform_id}/editar",
        NEW,
        f"/configuracoes/plataformas/{platform_id}/produtos/novo",
    ):
        assert client.post(url, data={"csrf_token": token, "code": "X"}).status_code == 403, url
    assert client.get(NEW).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PlatformTask)) == 0


def csrf_from(client, url: str) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get(url).get_data(as_text=True))


def test_operador_cannot_open_the_forms(login_as, client):
    login_as("operador")
    assert client.get(NEW).status_code == 403
    assert client.get("/configuracoes/plataformas").status_code == 200


def test_a_platform_used_by_a_plan_cannot_be_removed(app, login_as, client, sandbox_for):
    from tests.factories import make_plan_in_db

    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    make_plan_in_db(app, platform_id, "Plano TV")
    detail = f"/configuracoes/plataformas/{platform_id}"
    response = post_form(client, detail, {}, post_url=f"{detail}/remover", follow_redirects=True)
    assert "é usada pelos planos Plano TV" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Platform, platform_id) is not None


def test_an_unused_platform_is_removed_with_its_products_and_checks(app, login_as, client, sandbox_for, run_jobs):
    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    ask(client, platform_id, "sincronizar")
    run_jobs()
    detail = f"/configuracoes/plataformas/{platform_id}"
    response = post_form(client, detail, {}, post_url=f"{detail}/remover", follow_redirects=True)
    assert "Plataforma ittv demo removida." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Platform, platform_id) is None
        assert db.session.scalar(db.select(db.func.count()).select_from(Product)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(PlatformTask)) == 0
        assert db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "platform.deleted")).one()


def test_a_check_whose_worker_died_is_shown_as_unfinished_and_can_be_asked_again(
    app, login_as, client, sandbox_for, run_jobs
):
    from datetime import timedelta

    from panel.models.types import utcnow

    ittv = sandbox_for("ittv")
    login_as("admin")
    platform_id = platform_id_from(register(client, ittv))
    ask(client, platform_id, "testar")
    app.extensions["redis"].flushdb()  # the job is gone with its worker
    with app.app_context():
        task = db.session.scalars(db.select(PlatformTask)).one()
        task.status, task.created_at = "running", utcnow() - timedelta(minutes=11)
        db.session.commit()
    detail = text_of(page(client, f"/configuracoes/plataformas/{platform_id}"))
    assert "não terminou (o worker parou?). Tente de novo." in detail
    ask(client, platform_id, "testar")
    assert run_jobs() == 1
    assert "Conexão OK" in page(client, f"/configuracoes/plataformas/{platform_id}")


def test_every_field_error_shows_at_once_and_the_usual_code_is_offered_only_when_free(
    app, login_as, client, sandbox_for
):
    ittv = sandbox_for("ittv")
    login_as("admin")
    assert 'value="ITTV"' in page(client, NEW + "?tipo=ittv")
    platform_id_from(register(client, ittv))
    assert 'value="ITTV"' not in page(client, NEW + "?tipo=ittv")  # taken by the first account
    response = register(client, ittv, code="ITTV", url="127.0.0.1:5710", concurrency_limit="4")
    html = response.get_data(as_text=True)
    assert "Já existe uma plataforma com este código." in html
    assert "A URL deve começar com http:// ou https://." in html


# -- server URLs that two parsers could read differently ---------------------------------------

# (URL, words of the refusal). Each is read one way by urllib.parse and another by urllib3, which
# connects, or hides a host or character that is not what it seems: the backslash one, with
# PLATFORM_ALLOWED_HOSTS=*.skeelo.example, passed as host "127.0.0.1\.skeelo.example" and
# connected to 127.0.0.1:443.
CONFUSING_URLS = [
    ("https://127.0.0.1\\.skeelo.example", "barra invertida"),
    ("https://127.0.0.1:443\\@api.skeelo.example", "usuário ou senha"),
    ("https://api.skeelo.example@127.0.0.1", "usuário ou senha"),
    ("https://127.0.0.1#@api.skeelo.example", "usuário ou senha"),
    ("https://127.0.0.1%2f.skeelo.example", "letras sem acento, números, pontos e hífens"),
    ("https://127.0.0.1%00.skeelo.example", "letras sem acento, números, pontos e hífens"),
    ("https://127.0.0.1;.skeelo.example", "letras sem acento, números, pontos e hífens"),
    ("https://127.0.0.1\u3002skeelo.example", "acentos"),  # an ideographic full stop, read as a dot by IDNA
    ("https://127.0.0.1\uff0eskeelo.example", "acentos"),  # a fullwidth full stop
    ("http://[::1", "IPv6"),  # was a 500 in Configurações
    ("http://[::1]:5101", "IPv6"),
    ("http://[::ffff:127.0.0.1]", "IPv6"),
    ("https://api.skeelo.example ", "espaços"),
    (" https://api.skeelo.example", "espaços"),
    ("https://api.skeelo.example\u200b/v1", "espaços"),
    ("https://api.skeelo.example:99999", "porta"),
    ("https://api.skeelo.example:/v1", "porta"),
    ("https://api.skeelo.example/v1/../../interno", "caminho"),
]


@pytest.mark.parametrize(("url", "words"), CONFUSING_URLS)
def test_urls_two_parsers_could_read_differently_are_refused_by_the_form(
    url, words, app, login_as, client, sandbox_for
):
    ittv = sandbox_for("ittv")
    login_as("admin")
    app.config["PLATFORM_ALLOWED_HOSTS"] = ("*.skeelo.example", "api.skeelo.example")
    try:
        response = register(client, ittv, url=url)
    finally:
        app.config["PLATFORM_ALLOWED_HOSTS"] = ("*",)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert words in html and 'value="ittv demo"' in html, re.findall(r"invalid-feedback[^>]*>([^<]*)", html)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Platform)) == 0


def saved_by_an_older_version(app, url: str) -> int:
    """A platform whose server URL was saved under looser rules (written to its row directly)."""
    from tests.factories import ITTV_PRODUCTS, make_platform

    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    with app.app_context():
        db.session.get(Platform, platform_id).server_url = url
        db.session.commit()
    return platform_id


@pytest.mark.parametrize(("url", "words"), CONFUSING_URLS)
def test_urls_two_parsers_could_read_differently_are_refused_by_the_job(url, words, app, run_jobs):
    from panel.domain.platform_checks import request_task
    from panel.models import TaskKind
    from tests.factories import SYSTEM

    platform_id = saved_by_an_older_version(app, url)
    with app.app_context():
        task_id = request_task(SYSTEM, db.session.get(Platform, platform_id), TaskKind.test_connection).id
    run_jobs()
    with app.app_context():
        task = db.session.get(PlatformTask, task_id)
        assert task.status == "failed" and words in task.message, task.message


def test_a_sync_to_a_url_saved_with_a_backslash_fails_without_calling(app, run_jobs, sandbox_for):
    from tests.provisioning import act, operation, platform_at, subscription

    ittv = platform_at(app, sandbox_for("ittv"))
    with app.app_context():  # the review's URL: it used to reach 127.0.0.1:443
        db.session.get(Platform, ittv.platform_id).server_url = "https://127.0.0.1\\.skeelo.example"
        db.session.commit()
    contract_id = ittv.contract(app)
    op_id = act(app, contract_id, "sync")
    run_jobs()
    failed = operation(app, op_id)
    assert failed.status == "failed" and "barra invertida" in failed.last_error
    assert subscription(app, contract_id).last_error == failed.last_error
    assert not ittv.sandbox.requests_seen()


# -- production: a host on the list that resolves to an internal address -----------------------


@pytest.fixture
def listener():
    """A port on 127.0.0.1 that speaks neither TLS nor HTTP, and records what it received."""
    from tests.raw_listener import RawListener

    with RawListener() as raw:
        yield raw


INTERNAL = "o servidor localhost resolve para um endereço interno (127.0.0.1)"


def test_in_production_testar_conexao_to_a_host_that_resolves_internally_is_refused_before_tls(
    app, make_app, login_as, client, listener
):
    from panel.domain.platform_checks import request_task
    from panel.domain.platforms import create_platform
    from panel.models import TaskKind
    from tests.factories import SYSTEM

    production = make_app(PANEL_ENV="production", PLATFORM_ALLOWED_HOSTS=("localhost",))
    url = f"https://localhost:{listener.port}"
    with production.app_context():
        # The settings allow the name, so the form takes it...
        platform = create_platform(SYSTEM, kind="ittv", code="ITTV", name="ITTV", server_url=url, token="tok-123")
        platform_id = platform.id
        request_task(SYSTEM, platform, TaskKind.test_connection)
    run_jobs_with(production)

    # ...but the call is refused once the connection shows where the name leads.
    login_as("admin")
    detail = text_of(page(client, f"/configuracoes/plataformas/{platform_id}"))
    assert f"Falhou: Chamada a ITTV recusada: {INTERNAL}" in detail
    assert "em produção o painel só chama endereços públicos" in detail
    # Refused on connecting: not one byte went out (no TLS handshake, no request, no token).
    assert listener.wait_for_connections(1) == [b""]


def test_in_production_a_sync_to_a_host_that_resolves_internally_fails_with_the_reason(
    app, make_app, listener, login_as, client
):
    from tests.factories import ITTV_PRODUCTS, make_client, make_contract, make_plan_in_db, make_platform
    from tests.provisioning import act, history, operation, subscription

    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    plan_id = make_plan_in_db(app, platform_id, "PlayHub", codes=("PLAYHUB-BASICO", "PLAYHUB-PREMIUM"))
    with app.app_context():
        db.session.get(Platform, platform_id).server_url = f"https://localhost:{listener.port}"
        db.session.commit()
    contract_id = make_contract(app, make_client(app), plan_id)
    op_id = act(app, contract_id, "sync")
    with app.app_context():  # ITTV failed twice before: our own refusal must not count as its answer
        circuit.record_failure(platform_id, "HTTP 503")
        circuit.record_failure(platform_id, "HTTP 503")

    run_jobs_with(make_app(PANEL_ENV="production", PLATFORM_ALLOWED_HOSTS=("localhost",)))

    failed = operation(app, op_id)
    assert failed.status == "failed" and failed.attempts == 1 and INTERNAL in failed.last_error
    assert subscription(app, contract_id).last_error == failed.last_error
    assert history(app, contract_id)[-1][2] == failed.last_error
    login_as("leitura")
    contract_page = page(client, f"/financeiro/painel-do-cliente/contratos/{contract_id}")
    assert INTERNAL in text_of(contract_page)
    assert listener.wait_for_connections(1) == [b""]
    with app.app_context():
        failures = app.extensions["redis"].hget(circuit.CIRCUIT_KEY.format(platform_id=platform_id), "failures")
    assert failures == b"2"


# -- what a platform says back is stored and shown without personal data ----------------------


def test_a_refusal_quoting_the_request_json_escaped_is_stored_and_shown_without_personal_data(
    app, run_jobs, sandbox_for, login_as, client
):
    import html
    import json
    import unicodedata

    from tests.factories import CPFS, make_client, make_contract
    from tests.provisioning import act, history, operation, platform_at, subscription

    ittv = platform_at(app, sandbox_for("ittv"))
    person = {
        "name": 'João "Jota" da Conceição',
        "email": "joao.conceicao@example.com.br",
        "phone": "(11) 98765-4321",
        "zipcode": "37410-000",
        "street": "Rua das Acácias",
        "number": "1578",
        "complement": "Bloco Ipê",
        "city": "Três Corações",
        "state": "MG",
    }
    contract_id = make_contract(app, make_client(app, document=CPFS[1], **person), ittv.plan_id)
    # ITTV's wire names; the sandbox quotes them JSON-encoded (accents as \u00e3, quotes as \").
    quoted = ["name", "zipcode", "number", "city", "address", "complement", "phone", "cpf"]
    ittv.sandbox.inject("error", status=422, echo=quoted, match="POST /alpha/reseller/customer")

    op_id = act(app, contract_id, "sync")
    run_jobs()

    failed = operation(app, op_id)
    assert failed.status == "failed"
    masked = ", ".join(f'"{field}": "***"' for field in quoted)
    assert failed.last_error.endswith(f"Erro da plataforma (falha simulada). Recebido: {{{masked}}}"), failed.last_error
    stored = [
        failed.last_error,
        subscription(app, contract_id).last_error,
        *(answer or "" for *_, answer in history(app, contract_id)),
    ]

    def forms(value: str) -> set[str]:
        """How a value may be written: as typed, JSON-escaped, without accents, and its digits."""
        plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
        digits = "".join(c for c in value if c.isdigit())
        return {value, json.dumps(value)[1:-1], plain, *([digits] if len(digits) >= 3 else [])} | set(value.split())

    personal = set().union(*(forms(value) for key, value in person.items() if key != "state"), forms(CPFS[1]))
    personal -= {"da", "das", "Rua", "(11)"}  # words under three characters, and the street's kind
    for text in stored:
        for value in personal:
            assert value not in text, (value, text)
    login_as("leitura")
    shown = html.unescape(page(client, f"/financeiro/painel-do-cliente/contratos/{contract_id}"))
    assert failed.last_error in shown


# -- credentials by kind (Watch Brasil: client id and client secret) ----------------------------


def register_watch(client, sandbox, **changes):
    client_id, _, secret = sandbox.token.partition(":")
    data = {
        "kind": "watch",
        "code": "WATCH",
        "name": "Watch demo",
        "server_url": sandbox.url,
        "client_id": client_id,
        "client_secret": secret,
        "token": "ignorado-para-a-watch",  # another kind's field: not read for this one
        "concurrency_limit": "4",
        "active": "y",
        **changes,
    }
    return post_form(client, NEW, data)


def test_the_form_asks_each_kind_for_its_own_credentials(login_as, client):
    login_as("admin")

    html = page(client, NEW + "?tipo=watch")

    # One field per credential a kind declares; only the chosen kind's are shown.
    assert re.search(r'data-for-kinds="ittv skeelo" hidden>.*?name="token"', html, re.S)
    assert re.search(r'data-for-kinds="watch">.*?name="client_id".*?name="client_secret"', html, re.S)
    assert 'type="password"' in html


def test_watch_is_registered_with_client_id_and_secret_encrypted_and_tested_by_the_worker(
    app, login_as, client, sandbox_for, run_jobs
):
    sandbox = sandbox_for("watch")
    client_id, _, secret = sandbox.token.partition(":")
    login_as("admin")

    platform_id = platform_id_from(register_watch(client, sandbox))

    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        assert secret not in platform.token_ciphertext and client_id not in platform.token_ciphertext
        stored = Fernet(app.config["ENCRYPTION_KEY"].encode()).decrypt(platform.token_ciphertext.encode()).decode()
        assert stored == f"{client_id}:{secret}"
        audit = db.session.query(AuditEvent).filter_by(action="platform.created").one()
        assert secret not in str(audit.changes) and client_id not in str(audit.changes)
    detail = page(client, f"/configuracoes/plataformas/{platform_id}")
    assert "Client ID e Client secret" in text_of(detail)
    assert secret not in detail and client_id not in detail
    edit = page(client, f"/configuracoes/plataformas/{platform_id}/editar")
    assert secret not in edit and client_id not in edit and 'name="token"' not in edit

    ask(client, platform_id, "testar")
    run_jobs()
    assert "Conexão OK: 3 produtos no catálogo." in text_of(page(client, f"/configuracoes/plataformas/{platform_id}"))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"client_id": ""}, "client_id", "Informe o Client ID."),
        ({"client_secret": "com espaço"}, "client_secret", "caracteres inválidos"),
        ({"client_id": "a:b"}, "client_id", "não pode ter dois-pontos (:)"),
    ],
)
def test_watch_credentials_are_checked_field_by_field_and_never_echoed(
    login_as, client, sandbox_for, changes, field, message
):
    sandbox = sandbox_for("watch")
    login_as("admin")

    response = register_watch(client, sandbox, **changes)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert re.search(rf'name="{field}"[^>]*is-invalid|is-invalid[^>]*name="{field}"', html)
    _, _, secret = sandbox.token.partition(":")
    assert secret not in html


def test_watch_edit_keeps_the_credentials_when_left_blank_and_replaces_both_when_typed(
    app, login_as, client, sandbox_for
):
    sandbox = sandbox_for("watch")
    login_as("admin")
    platform_id = platform_id_from(register_watch(client, sandbox))
    edit = f"/configuracoes/plataformas/{platform_id}/editar"
    form = {"code": "WATCH", "name": "Watch", "server_url": sandbox.url, "concurrency_limit": "4", "active": "y"}

    assert post_form(client, edit, {**form, "client_id": "", "client_secret": ""}).status_code == 302
    with app.app_context():
        before = db.session.get(Platform, platform_id).token_ciphertext

    half = post_form(client, edit, {**form, "client_id": "novo-id", "client_secret": ""})
    assert half.status_code == 200 and "Informe o Client secret." in half.get_data(as_text=True)

    assert post_form(client, edit, {**form, "client_id": "novo-id", "client_secret": "novo-segredo"}).status_code == 302
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        assert platform.token_ciphertext != before
        key = app.config["ENCRYPTION_KEY"].encode()
        assert Fernet(key).decrypt(platform.token_ciphertext.encode()).decode() == "novo-id:novo-segredo"
