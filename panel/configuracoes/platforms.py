"""Configurações → Operadoras e fornecedores, and each one's products (*Relação de produtos
associados a esse fornecedor*). Changes are for admins; everyone else reads."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from panel.configuracoes import bp
from panel.configuracoes.forms import PlatformForm, ProductForm
from panel.domain import DomainError, platform_checks
from panel.domain import platforms as platforms_domain
from panel.domain import products as products_domain
from panel.domain.kinds import KINDS, kind_of
from panel.extensions import db
from panel.formats import local_datetime
from panel.models import Platform, PlatformTask, Product, Role, TaskKind
from panel.security import requires
from panel.web import attach_error, current_actor


def _load(platform_id: int) -> Platform:
    return db.session.get(Platform, platform_id) or abort(404)


def _kind_choices() -> list[tuple[str, str]]:
    return [(name, kind.title) for name, kind in KINDS.items()]


@bp.route("/plataformas")
@requires(Role.leitura)
def platforms():
    kind = request.args.get("tipo")
    if kind is not None and kind not in KINDS:
        abort(404)
    listed = platforms_domain.list_platforms(kinds=[kind] if kind else None)
    checks = {p.id: platform_checks.latest_task(p, TaskKind.test_connection) for p in listed}
    return render_template(
        "configuracoes/platforms.html", platforms=listed, checks=checks, kinds=KINDS, kind=kind,
    )


@bp.route("/plataformas/nova", methods=["GET", "POST"])
@requires(Role.admin)
def platform_new():
    form = PlatformForm()
    form.kind.choices = _kind_choices()
    kind = request.args.get("tipo")
    if request.method == "GET" and kind in KINDS:
        form.kind.data = kind
        if platforms_domain.code_is_free(kind):
            form.code.data = kind.upper()  # the usual code, unless a first account took it
    form.token.description = "Fornecido pela plataforma. Fica guardado criptografado e não é exibido de novo."
    if form.validate_on_submit():
        try:
            platform = platforms_domain.create_platform(
                current_actor(), kind=form.kind.data, code=form.code.data, name=form.name.data,
                server_url=form.server_url.data, token=form.token.data,
                concurrency_limit=form.concurrency_limit.data, active=form.active.data,
            )
        except DomainError as error:
            attach_error(form, error)
        else:
            return _after_save(platform, "cadastrada")
    return render_template("configuracoes/platform_form.html", form=form, platform=None)


def _after_save(platform: Platform, what: str):
    flash(f"Plataforma {platform.name} {what}.", "success")
    if request.form.get("and_test"):
        platform_checks.request_task(current_actor(), platform, TaskKind.test_connection)
    return redirect(url_for("configuracoes.platform_detail", platform_id=platform.id))


@bp.route("/plataformas/<int:platform_id>")
@requires(Role.leitura)
def platform_detail(platform_id: int):
    platform = _load(platform_id)
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
    platform = _load(platform_id)
    form = PlatformForm(obj=platform)
    del form.kind  # the adapter of an account never changes
    form.token.description = (
        f"Definido em {local_datetime(platform.token_set_at, '%d/%m/%Y')}. "
        "Deixe em branco para manter o atual; ao trocar o servidor, informe-o de novo."
    )
    if form.validate_on_submit():
        try:
            platforms_domain.update_platform(
                current_actor(), platform, code=form.code.data, name=form.name.data,
                server_url=form.server_url.data, token=form.token.data,
                concurrency_limit=form.concurrency_limit.data, active=form.active.data,
            )
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            return _after_save(platform, "salva")
    return render_template("configuracoes/platform_form.html", form=form, platform=platform)


@bp.route("/plataformas/<int:platform_id>/remover", methods=["POST"])
@requires(Role.admin)
def platform_delete(platform_id: int):
    platform = _load(platform_id)
    try:
        platforms_domain.delete_platform(current_actor(), platform)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("configuracoes.platform_detail", platform_id=platform_id))
    flash(f"Plataforma {platform.name} removida.", "success")
    return redirect(url_for("configuracoes.platforms"))


@bp.route("/plataformas/<int:platform_id>/testar", methods=["POST"])
@requires(Role.admin)
def platform_test(platform_id: int):
    platform = _load(platform_id)
    platform_checks.request_task(current_actor(), platform, TaskKind.test_connection)
    flash("Teste de conexão solicitado; o resultado aparece abaixo.", "info")
    return redirect(url_for("configuracoes.platform_detail", platform_id=platform_id))


@bp.route("/plataformas/<int:platform_id>/sincronizar", methods=["POST"])
@requires(Role.admin)
def platform_sync(platform_id: int):
    platform = _load(platform_id)
    platform_checks.request_task(current_actor(), platform, TaskKind.sync_products)
    flash("Sincronização de produtos solicitada; o resultado aparece abaixo.", "info")
    return redirect(url_for("configuracoes.platform_detail", platform_id=platform_id) + "#produtos")


@bp.route("/plataformas/<int:platform_id>/tarefas/<int:task_id>")
@requires(Role.leitura)
def platform_task(platform_id: int, task_id: int):
    """The result box of a check, polled by the page while the job runs."""
    task = db.session.get(PlatformTask, task_id)
    if task is None or task.platform_id != platform_id:
        abort(404)
    return render_template("configuracoes/_platform_task.html", task=task, platform=task.platform)


# -- products -------------------------------------------------------------------------------

def _product_form(platform: Platform, product: Product | None = None) -> ProductForm:
    form = ProductForm(obj=product)
    if not kind_of(platform.kind).has_partial_block:
        del form.is_base  # no partial block there: a base package would mean nothing
    return form


def _is_base(form: ProductForm) -> bool:
    return bool(form.is_base.data) if "is_base" in form else False


def _product_form_page(form: ProductForm, platform: Platform, product: Product | None):
    return render_template("configuracoes/product_form.html", form=form, platform=platform, product=product)


@bp.route("/plataformas/<int:platform_id>/produtos/novo", methods=["GET", "POST"])
@requires(Role.admin)
def product_new(platform_id: int):
    platform = _load(platform_id)
    form = _product_form(platform)
    if form.validate_on_submit():
        try:
            product = products_domain.add_product(
                current_actor(), platform, code=form.code.data, name=form.name.data, is_base=_is_base(form)
            )
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"Produto {product.code} cadastrado.", "success")
            return redirect(url_for("configuracoes.platform_detail", platform_id=platform.id) + "#produtos")
    return _product_form_page(form, platform, None)


def _load_product(product_id: int) -> Product:
    return db.session.get(Product, product_id) or abort(404)


@bp.route("/produtos/<int:product_id>/editar", methods=["GET", "POST"])
@requires(Role.admin)
def product_edit(product_id: int):
    product = _load_product(product_id)
    form = _product_form(product.platform, product)
    if form.validate_on_submit():
        try:
            products_domain.update_product(
                current_actor(), product, code=form.code.data, name=form.name.data, is_base=_is_base(form)
            )
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"Produto {product.code} salvo.", "success")
            return redirect(url_for("configuracoes.platform_detail", platform_id=product.platform_id) + "#produtos")
    return _product_form_page(form, product.platform, product)


@bp.route("/produtos/<int:product_id>/remover", methods=["POST"])
@requires(Role.admin)
def product_delete(product_id: int):
    product = _load_product(product_id)
    platform_id, code = product.platform_id, product.code
    try:
        products_domain.remove_product(current_actor(), product)
    except DomainError as error:
        flash(error.message, "danger")
    else:
        flash(f"Produto {code} removido.", "success")
    return redirect(url_for("configuracoes.platform_detail", platform_id=platform_id) + "#produtos")
