"""Configurações → a platform's products (*Relação de produtos associados a esse fornecedor*):
add, edit and remove one by hand (admins); the catalogue import is *Sincronizar produtos*, on the
platform's page (views/platforms.py)."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from panel.configuracoes import bp
from panel.configuracoes.forms import ProductForm
from panel.domain import products as products_domain
from panel.domain.kinds import kind_of
from panel.extensions import db
from panel.models import Platform, Product, Role
from panel.security import requires
from panel.web import attempt, current_actor


def _product_form(platform: Platform, product: Product | None = None) -> ProductForm:
    form = ProductForm(obj=product)
    if not kind_of(platform.kind).has_partial_block:
        del form.is_base  # no partial block there: a base package would mean nothing
    return form


def _is_base(form: ProductForm) -> bool:
    return bool(form.is_base.data) if "is_base" in form else False


def _product_form_page(form: ProductForm, platform: Platform, product: Product | None):
    return render_template("configuracoes/product_form.html", form=form, platform=platform, product=product)


def _products_of(platform_id: int):
    """Back to the platform's page, at its products."""
    return redirect(url_for("configuracoes.platform_detail", platform_id=platform_id) + "#produtos")


@bp.route("/plataformas/<int:platform_id>/produtos/novo", methods=["GET", "POST"])
@requires(Role.admin)
def product_new(platform_id: int):
    platform = db.get_or_404(Platform, platform_id)
    form = _product_form(platform)
    if form.validate_on_submit() and attempt(
        lambda: products_domain.add_product(
            current_actor(), platform, code=form.code.data, name=form.name.data, is_base=_is_base(form)
        ),
        form=form,
        success=lambda product: f"Produto {product.code} cadastrado.",
    ):
        return _products_of(platform.id)
    return _product_form_page(form, platform, None)


@bp.route("/produtos/<int:product_id>/editar", methods=["GET", "POST"])
@requires(Role.admin)
def product_edit(product_id: int):
    product = db.get_or_404(Product, product_id)
    form = _product_form(product.platform, product)
    if form.validate_on_submit() and attempt(
        lambda: products_domain.update_product(
            current_actor(), product, code=form.code.data, name=form.name.data, is_base=_is_base(form)
        ),
        form=form,
        success=lambda saved: f"Produto {saved.code} salvo.",
    ):
        return _products_of(product.platform_id)
    return _product_form_page(form, product.platform, product)


@bp.route("/produtos/<int:product_id>/remover", methods=["POST"])
@requires(Role.admin)
def product_delete(product_id: int):
    product = db.get_or_404(Product, product_id)
    platform_id = product.platform_id
    attempt(
        lambda: products_domain.remove_product(current_actor(), product), success=f"Produto {product.code} removido."
    )
    return _products_of(platform_id)
