"""Configurações → Financeiro → Réguas de Configuração."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from panel.configuracoes import bp
from panel.configuracoes.forms import BillingRuleForm
from panel.domain import billing_rules as rules_domain
from panel.domain import platforms as platforms_domain
from panel.extensions import db
from panel.models import BillingRule, Role
from panel.security import requires
from panel.web import attempt, current_actor


@bp.route("/reguas")
@requires(Role.leitura)
def billing_rules():
    return render_template(
        "configuracoes/billing_rules.html", rules=rules_domain.list_rules(), scope_label=rules_domain.scope_label
    )


def _form_page(form: BillingRuleForm, rule: BillingRule | None):
    form.platform_id.choices = [("", "Todas as plataformas a que a ação se aplica")] + [
        (platform.id, platform.name) for platform in platforms_domain.list_platforms()
    ]
    if form.validate_on_submit() and attempt(
        lambda: rules_domain.save_rule(
            current_actor(),
            rule,
            rule_type=form.rule_type.data,
            days_overdue=form.days_overdue.data,
            action=form.action.data,
            platform_id=form.platform_id.data,
            unblock_on_payment=form.unblock_on_payment.data,
            active=form.active.data,
            description=form.description.data,
        ),
        form=form,
        success=lambda saved: f"Régua “{saved.title}” salva.",
    ):
        return redirect(url_for("configuracoes.billing_rules"))
    return render_template("configuracoes/billing_rule_form.html", form=form, rule=rule)


@bp.route("/reguas/nova", methods=["GET", "POST"])
@requires(Role.admin)
def billing_rule_new():
    return _form_page(BillingRuleForm(), None)


@bp.route("/reguas/<int:rule_id>/editar", methods=["GET", "POST"])
@requires(Role.admin)
def billing_rule_edit(rule_id: int):
    rule = db.get_or_404(BillingRule, rule_id)
    return _form_page(BillingRuleForm(obj=rule), rule)


@bp.route("/reguas/<int:rule_id>/remover", methods=["POST"])
@requires(Role.admin)
def billing_rule_delete(rule_id: int):
    rule = db.get_or_404(BillingRule, rule_id)
    attempt(lambda: rules_domain.delete_rule(current_actor(), rule), success=f"Régua “{rule.title}” removida.")
    return redirect(url_for("configuracoes.billing_rules"))
