"""Flask CLI commands (`flask --app app <command>`)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from panel.database import unit_of_work
from panel.demo import DEMO_USERS, seed
from panel.domain import Actor, DomainError, invoices, reconciliation, regua
from panel.domain import users as users_domain
from panel.domain.common import local_today
from panel.domain.platforms import reencrypt_tokens
from panel.extensions import db
from panel.formats import ngettext
from panel.jobs.queues import QUEUE_SPECS
from panel.jobs.reconciliation import run_reconciliation
from panel.jobs.regua import RUN_LEASE_S
from panel.jobs.worker import run_scheduler, run_worker
from panel.models import (
    DifferenceKind,
    OutboxStatus,
    Platform,
    ReconciliationRun,
    ReconciliationTrigger,
    ReguaTrigger,
    Role,
)

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
    click.echo(
        ngettext(
            "%(num)s token recriptografado com a chave mais nova.",
            "%(num)s tokens recriptografados com a chave mais nova.",
            rewritten,
        )
    )
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
    click.echo(
        ngettext(
            "%(num)s título gerado para %(month)s.",
            "%(num)s títulos gerados para %(month)s.",
            made,
            month=invoices.month_label(reference),
        )
    )


@click.group("regua")
def regua_group() -> None:
    """The régua de cobrança."""


def _say_outcome(outcome: regua.RuleOutcome, *, dry_run: bool) -> None:
    blocks, unblocks, skips = (
        outcome.of(d) for d in (regua.Decision.BLOCK, regua.Decision.UNBLOCK, regua.Decision.SKIP)
    )
    if dry_run:
        blocked, unblocked = ("seria bloqueado", "seriam bloqueados"), ("seria desbloqueado", "seriam desbloqueados")
    else:
        blocked, unblocked = ("bloqueado", "bloqueados"), ("desbloqueado", "desbloqueados")
    why = ", ".join(f"{count} {reason}" for reason, count in sorted(outcome.skipped_reasons.items()))
    parts = [
        ngettext("%(num)s candidato", "%(num)s candidatos", len(outcome.verdicts)),
        ngettext(f"%(num)s {blocked[0]}", f"%(num)s {blocked[1]}", len(blocks)),
        ngettext(f"%(num)s {unblocked[0]}", f"%(num)s {unblocked[1]}", len(unblocks)),
        ngettext("%(num)s ignorado", "%(num)s ignorados", len(skips)),
    ]
    click.echo(f"Régua {regua.rule_words(outcome.rule)}: " + "; ".join(parts) + (f" ({why})" if why else "") + ".")
    for verdict in blocks:
        click.echo(
            f"  bloquear contrato {verdict.contract_id} ({verdict.client_name}, {verdict.platform_name}): "
            f"título {verdict.invoice_month} vencido há {verdict.days_overdue} dias"
        )
    for verdict in unblocks:
        click.echo(f"  desbloquear contrato {verdict.contract_id} ({verdict.client_name}, {verdict.platform_name})")
    for verdict in skips:
        click.echo(f"  ignorar contrato {verdict.contract_id} ({verdict.client_name}): {verdict.reason}")


@regua_group.command("run")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Só mostra o que seria feito; nada muda.")
@click.option("--date", "day_text", default=None, help="O dia da execução, AAAA-MM-DD (padrão: hoje).")
def regua_run_command(dry_run: bool, day_text: str | None) -> None:
    """Run every active rule for today (or --date): the month's títulos, then blocks and
    unblocks. A rule that already ran that day does nothing. --dry-run changes nothing."""
    try:
        day = date.fromisoformat(day_text) if day_text else local_today()
    except ValueError:
        raise click.ClickException("Data inválida: use AAAA-MM-DD (ex.: 2026-12-16).") from None
    if dry_run:
        outcomes = regua.simulate(day)
        click.echo(f"Simulação da régua para {day:%d/%m/%Y} (nada foi alterado):")
        for outcome in outcomes:
            _say_outcome(outcome, dry_run=True)
        if not outcomes:
            click.echo("Nenhuma régua ativa.")
        return
    after_id = 0
    while after_id is not None:
        with unit_of_work():
            _made, after_id = invoices.generate_batch(CLI_ACTOR, invoices.month_start(day), after_id)
    try:
        with unit_of_work():
            run_ids = [run.id for run in regua.request_runs(CLI_ACTOR, ReguaTrigger.cli, day, deliver=False)]
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Régua de {day:%d/%m/%Y}:")
    if not run_ids:
        click.echo("Nada a fazer: cada régua ativa já rodou neste dia (ou não há régua ativa).")
    for run_id in run_ids:
        with unit_of_work():
            run = regua.start(run_id, RUN_LEASE_S)
            attempt = run.attempts if run else None
        if run is None:
            continue  # a worker took it meanwhile
        with unit_of_work():
            outcome = regua.carry_out(run_id, attempt)
            if outcome is not None:
                _say_outcome(outcome, dry_run=False)


@click.command("reconcile")
@with_appcontext
@click.argument("platform_code", required=False)
def reconcile_command(platform_code: str | None) -> None:
    """Reconcile one platform (its code, e.g. ITTV) or every active one, here and now: its
    subscriber list compared with ours; the differences show on Integradores → Conciliação."""
    with unit_of_work():
        query = db.select(Platform).where(Platform.active).order_by(Platform.id)
        if platform_code:
            query = query.where(db.func.upper(Platform.code) == platform_code.strip().upper())
        platforms = list(db.session.scalars(query))
        if not platforms:
            raise click.ClickException(
                f"Nenhuma plataforma ativa com o código {platform_code}."
                if platform_code
                else "Nenhuma plataforma ativa."
            )
        try:
            run_ids = [
                reconciliation.request_run(CLI_ACTOR, platform, ReconciliationTrigger.cli, deliver=False).id
                for platform in platforms
            ]
        except DomainError as error:
            raise click.ClickException(error.message) from None
    failed = False
    for run_id in run_ids:
        run_reconciliation(run_id)
        with unit_of_work():
            run = db.session.get(ReconciliationRun, run_id)
            name = run.platform.name
            if run.status is OutboxStatus.done:
                kinds = ", ".join(f"{run.count_of(kind)} {kind.label.lower()}" for kind in DifferenceKind)
                listed = ngettext("%(num)s assinante", "%(num)s assinantes", run.platform_count)
                click.echo(f"{name}: {listed} na plataforma; diferenças: {kinds}.")
            else:
                failed = True
                click.echo(f"{name}: {run.status.label.lower()}" + (f" — {run.error}" if run.error else "."), err=True)
    if failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    for command in (
        create_user_command,
        seed_demo_command,
        reencrypt_secrets_command,
        worker_command,
        scheduler_command,
        invoices_group,
        regua_group,
        reconcile_command,
    ):
        app.cli.add_command(command)
