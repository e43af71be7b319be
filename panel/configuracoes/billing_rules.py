"""Configurações → Financeiro → Réguas de Configuração."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from panel.configuracoes import bp
from panel.configuracoes.forms import BillingRuleForm
from panel.domain import DomainError
from panel.domain import billing_rules as rules_domain
from panel.domain import platforms as platforms_domain
from panel.extensions import db
from panel.models import BillingRule, Role
from panel.security import requires
from panel.web import attach_error, current_actor


def _load(rule_id: int) -> BillingRule:
    return db.session.get(BillingRule, rule_id) or abort(404)


@bp.route("/reguas")
@requires(Role.leitura)
def billing_rules():
    return render_template("configuracoes/billing_rules.html", rules=rules_domain.list_rules(),
                           scope_label=rules_domain.scope_label)


def _form_page(form: BillingRuleForm, rule: BillingRule | None):
    form.platform_id.choices = [("", "Todas as plataformas a que a ação se aplica")] + [
        (platform.id, platform.name)
        for platform in platforms_domain.list_platforms()
    ]
    if form.validate_on_submit():
        try:
            saved = rules_domain.save_rule(
                current_actor(), rule, rule_type=form.rule_type.data, days_overdue=form.days_overdue.data,
                action=form.action.data, platform_id=form.platform_id.data,
                unblock_on_payment=form.unblock_on_payment.data, active=form.active.data,
                description=form.description.data,
            )
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(f"Régua “{saved.title}” salva.", "success")
            return redirect(url_for("configuracoes.billing_rules"))
    return render_template("configuracoes/billing_rule_form.html", form=form, rule=rule)


@bp.route("/reguas/nova", methods=["GET", "POST"])
@requires(Role.admin)
def billing_rule_new():
    return _form_page(BillingRuleForm(), None)


@bp.route("/reguas/<int:rule_id>/editar", methods=["GET", "POST"])
@requires(Role.admin)
def billing_rule_edit(rule_id: int):
    rule = _load(rule_id)
    return _form_page(BillingRuleForm(obj=rule), rule)


@bp.route("/reguas/<int:rule_id>/remover", methods=["POST"])
@requires(Role.admin)
def billing_rule_delete(rule_id: int):
    rule = _load(rule_id)
    title = rule.title
    rules_domain.delete_rule(current_actor(), rule)
    flash(f"Régua “{title}” removida.", "success")
    return redirect(url_for("configuracoes.billing_rules"))
