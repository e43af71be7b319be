"""Configurações → Operadoras e fornecedores: the accounts, each one's page (with its products,
whose own screen is views/products.py), *Testar conexão* and *Sincronizar produtos*. Changes are
for admins; everyone else reads."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from panel.configuracoes import bp
from panel.configuracoes.forms import platform_form
from panel.domain import platform_checks
from panel.domain import platforms as platforms_domain
from panel.domain import products as products_domain
from panel.domain.kinds import KINDS, kind_of
from panel.extensions import db
from panel.formats import local_datetime
from panel.models import Platform, PlatformTask, Role, TaskKind
from panel.security import requires
from panel.web import attempt, current_actor


def _kind_choices() -> list[tuple[str, str]]:
    return [(name, kind.title) for name, kind in KINDS.items()]


def _credential_fields(form, kinds) -> list[tuple[object, str]]:
    """Each secret field of the form, with the kinds that ask for it (the page shows a field only
    for the kind chosen)."""
    fields: dict[str, list[str]] = {}
    for kind in kinds:
        for credential in kind.credentials:
            fields.setdefault(credential.name, []).append(kind.name)
    return [(form[name], " ".join(names)) for name, names in fields.items()]


def _typed_credentials(form, kind) -> dict[str, str]:
    """What was typed in the chosen kind's own credential fields (the others are ignored)."""
    return {credential.name: form[credential.name].data or "" for credential in kind.credentials}


@bp.route("/plataformas")
@requires(Role.leitura)
def platforms():
    kind = request.args.get("tipo")
    if kind is not None and kind not in KINDS:
        abort(404)
    listed = platforms_domain.list_platforms(kinds=[kind] if kind else None)
    checks = {p.id: platform_checks.latest_task(p, TaskKind.test_connection) for p in listed}
    return render_template(
        "configuracoes/platforms.html",
        platforms=listed,
        checks=checks,
        kinds=KINDS,
        kind=kind,
    )


@bp.route("/plataformas/nova", methods=["GET", "POST"])
@requires(Role.admin)
def platform_new():
    form = platform_form(KINDS.values())()
    form.kind.choices = _kind_choices()
    kind = request.args.get("tipo")
    if request.method == "GET" and kind in KINDS:
        form.kind.data = kind
        if platforms_domain.code_is_free(kind):
            form.code.data = kind.upper()  # the usual code, unless a first account took it
    credential_fields = _credential_fields(form, KINDS.values())
    for field, _ in credential_fields:
        field.description = "Fornecido pela plataforma. Fica guardado criptografado e não é exibido de novo."
    if form.validate_on_submit():
        chosen = kind_of(form.kind.data)
        saved = attempt(
            lambda: platforms_domain.create_platform(
                current_actor(),
                kind=form.kind.data,
                code=form.code.data,
                name=form.name.data,
                server_url=form.server_url.data,
                credentials=_typed_credentials(form, chosen),
                concurrency_limit=form.concurrency_limit.data,
                active=form.active.data,
                auto_correct=form.auto_correct.data,
                unit_price=form.unit_price.data,
                billing_mode=form.billing_mode.data,
                snapshot_day=form.snapshot_day.data,
            ),
            form=form,
            success=lambda platform: f"Plataforma {platform.name} cadastrada.",
        )
        if saved:
            return _after_save(saved.value)
    return render_template(
        "configuracoes/platform_form.html",
        form=form,
        platform=None,
        credential_fields=credential_fields,
        chosen_kind=form.kind.data or next(iter(KINDS)),
    )


def _after_save(platform: Platform):
    """Saved (and flashed): ask for a *Testar conexão* too when the form's second button was used."""
    if request.form.get("and_test"):
        attempt(lambda: platform_checks.request_task(current_actor(), platform, TaskKind.test_connection))
    return redirect(url_for("configuracoes.platform_detail", platform_id=platform.id))


@bp.route("/plataformas/<int:platform_id>")
@requires(Role.leitura)
def platform_detail(platform_id: int):
    platform = db.get_or_404(Platform, platform_id)
    products = platform.products
    return render_template(
        "configuracoes/platform_detail.html",
        platform=platform,
        kind=kind_of(platform.kind),
        has_base=kind_of(platform.kind).has_partial_block,
        token_readable=platforms_domain.token_readable(platform),
        check=platform_checks.latest_task(platform, TaskKind.test_connection),
        sync=platform_checks.latest_task(platform, TaskKind.sync_products),
        products=products,
        plans_by_product={product.id: products_domain.plans_using(product) for product in products},
    )


@bp.route("/plataformas/<int:platform_id>/editar", methods=["GET", "POST"])
@requires(Role.admin)
def platform_edit(platform_id: int):
    platform = db.get_or_404(Platform, platform_id)
    kind = kind_of(platform.kind)
    form = platform_form([kind])(obj=platform)
    del form.kind  # the adapter of an account never changes
    credential_fields = _credential_fields(form, [kind])
    for field, _ in credential_fields:
        field.description = (
            f"Definido em {local_datetime(platform.token_set_at, '%d/%m/%Y')}. "
            "Deixe em branco para manter o atual; ao trocar o servidor, informe-o de novo."
        )
    if form.validate_on_submit() and attempt(
        lambda: platforms_domain.update_platform(
            current_actor(),
            platform,
            code=form.code.data,
            name=form.name.data,
            server_url=form.server_url.data,
            credentials=_typed_credentials(form, kind),
            concurrency_limit=form.concurrency_limit.data,
            active=form.active.data,
            auto_correct=form.auto_correct.data,
            unit_price=form.unit_price.data,
            billing_mode=form.billing_mode.data,
            snapshot_day=form.snapshot_day.data,
        ),
        form=form,
        success=lambda saved: f"Plataforma {saved.name} salva.",
    ):
        return _after_save(platform)
    return render_template(
        "configuracoes/platform_form.html",
        form=form,
        platform=platform,
        credential_fields=credential_fields,
        chosen_kind=kind.name,
    )


@bp.route("/plataformas/<int:platform_id>/remover", methods=["POST"])
@requires(Role.admin)
def platform_delete(platform_id: int):
    platform = db.get_or_404(Platform, platform_id)
    if not attempt(
        lambda: platforms_domain.delete_platform(current_actor(), platform),
        success=f"Plataforma {platform.name} removida.",
    ):
        return redirect(url_for("configuracoes.platform_detail", platform_id=platform_id))
    return redirect(url_for("configuracoes.platforms"))


@bp.route("/plataformas/<int:platform_id>/testar", methods=["POST"])
@requires(Role.admin)
def platform_test(platform_id: int):
    platform = db.get_or_404(Platform, platform_id)
    if attempt(lambda: platform_checks.request_task(current_actor(), platform, TaskKind.test_connection)):
        flash("Teste de conexão solicitado; o resultado aparece abaixo.", "info")
    return redirect(url_for("configuracoes.platform_detail", platform_id=platform_id))


@bp.route("/plataformas/<int:platform_id>/sincronizar", methods=["POST"])
@requires(Role.admin)
def platform_sync(platform_id: int):
    platform = db.get_or_404(Platform, platform_id)
    if attempt(lambda: platform_checks.request_task(current_actor(), platform, TaskKind.sync_products)):
        flash("Sincronização de produtos solicitada; o resultado aparece abaixo.", "info")
    return redirect(url_for("configuracoes.platform_detail", platform_id=platform_id) + "#produtos")


@bp.route("/plataformas/<int:platform_id>/tarefas/<int:task_id>")
@requires(Role.leitura)
def platform_task(platform_id: int, task_id: int):
    """The result box of a check, polled by the page while the job runs."""
    task = db.get_or_404(PlatformTask, task_id)
    if task.platform_id != platform_id:
        abort(404)
    return render_template("configuracoes/_platform_task.html", task=task, platform=task.platform)
