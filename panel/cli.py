"""Flask CLI commands (`flask --app app <command>`)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from panel.database import unit_of_work
from panel.demo import DEMO_USERS, seed
from panel.domain import Actor, DomainError, invoices
from panel.domain import users as users_domain
from panel.domain.common import local_today
from panel.domain.platforms import reencrypt_tokens
from panel.jobs.queues import QUEUE_SPECS
from panel.jobs.worker import run_scheduler, run_worker
from panel.models import Role

CLI_ACTOR = Actor.system("Sistema (linha de comando)")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option(
    "--role", type=click.Choice([role.value for role in Role]), default=Role.operador.value, show_default=True
)
@click.option("--name", default=None, help="Nome exibido (padrão: o login).")
@click.option("--password", default=None, help="Sem esta opção, a senha é pedida no terminal.")
def create_user_command(username: str, role: str, name: str | None, password: str | None) -> None:
    """Create an operator. Non-interactive when --password is given."""
    if password is None:
        password = click.prompt("Senha", hide_input=True, confirmation_prompt=True)
    try:
        user = users_domain.create_user(
            CLI_ACTOR, username=username, name=name or username, role=role, password=password
        )
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Usuário {user.username} criado com perfil {user.role.label}.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo data (idempotent): one operator per role, and both platforms registered
    against their local sandboxes with their products, a plan of each type and the réguas."""
    if current_app.config["PANEL_ENV"] == "production":
        raise click.ClickException("seed-demo cria senhas conhecidas e não roda em produção.")
    try:
        seed(Path(current_app.instance_path), dict(os.environ), click.echo)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo("Dados de demonstração prontos. Logins: " + ", ".join(f"{u} / {p}" for u, _, _, p in DEMO_USERS))


@click.command("reencrypt-secrets")
@with_appcontext
def reencrypt_secrets_command() -> None:
    """Rewrite the stored platform tokens with the newest ENCRYPTION_KEY (list the new key first,
    the old one after a comma; run this; then drop the old key)."""
    rewritten, unreadable = reencrypt_tokens(CLI_ACTOR)
    click.echo(f"{rewritten} token(s) recriptografado(s) com a chave mais nova.")
    if unreadable:
        raise click.ClickException(
            "Nenhuma chave de ENCRYPTION_KEY lê o token de: "
            + ", ".join(unreadable)
            + ". Informe-o de novo em Configurações → Operadoras e fornecedores."
        )


@click.command("worker")
@with_appcontext
@click.option(
    "--queue", "queues", multiple=True, type=click.Choice(list(QUEUE_SPECS)), help="Filas a atender (padrão: todas)."
)
@click.option("--burst", is_flag=True, help="Sai quando as filas esvaziarem.")
def worker_command(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker for the panel's queues (under a supervisor that starts it again)."""
    raise SystemExit(run_worker(list(queues) or None, burst=burst))


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the periodic jobs (RQ cron scheduler, under a supervisor that starts it again)."""
    raise SystemExit(run_scheduler())


@click.group("invoices")
def invoices_group() -> None:
    """Invoices (títulos)."""


@invoices_group.command("generate")
@with_appcontext
@click.option("--month", default=None, help="Mês de referência, AAAA-MM (padrão: o mês corrente).")
def generate_invoices_command(month: str | None) -> None:
    """Generate this month's (or --month's) invoice of every active contract that has none yet.
    Safe to run again: existing invoices are skipped; each batch is committed as it is made."""
    try:
        reference = invoices.parse_month(month) if month else invoices.month_start(local_today())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    made, after_id = 0, 0
    while after_id is not None:
        with unit_of_work():
            count, after_id = invoices.generate_batch(CLI_ACTOR, reference, after_id)
        made += count
    click.echo(f"{made} título(s) gerado(s) para {invoices.month_label(reference)}.")


def init_app(app: Flask) -> None:
    for command in (
        create_user_command,
        seed_demo_command,
        reencrypt_secrets_command,
        worker_command,
        scheduler_command,
        invoices_group,
    ):
        app.cli.add_command(command)
