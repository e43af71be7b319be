"""Configurações → Planos de acesso: the list, and *Adicionar plano* in steps as in the ERP
(type → months, fiscal composition and value → platform and packages → review and *Efetivar*).

Each step is a POST that checks what was typed so far and shows the next step; the answers of
the other steps travel along as hidden fields, so going back and forth loses nothing and no
draft is kept on the server.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from panel.configuracoes import bp
from panel.configuracoes.forms import PlanForm
from panel.domain import fiscal
from panel.domain import plans as plans_domain
from panel.extensions import db
from panel.formats import number
from panel.forms import hidden_inputs
from panel.inputs import ascii_integer
from panel.models import CompositionMode, Plan, PlanType, Role
from panel.security import requires
from panel.web import attempt, current_actor, posted_flag

REVIEW = 4


@bp.route("/planos")
@requires(Role.leitura)
def plans():
    listed = plans_domain.list_plans()
    return render_template("configuracoes/plans.html", plans=listed)


@bp.route("/planos/<int:plan_id>")
@requires(Role.leitura)
def plan_detail(plan_id: int):
    plan = db.get_or_404(Plan, plan_id)
    return render_template(
        "configuracoes/plan_detail.html",
        plan=plan,
        resolved=plans_domain.resolved_composition(plan),
    )


@bp.route("/planos/novo", methods=["GET", "POST"])
@requires(Role.admin)
def plan_new():
    return _wizard(None)


@bp.route("/planos/<int:plan_id>/editar", methods=["GET", "POST"])
@requires(Role.admin)
def plan_edit(plan_id: int):
    return _wizard(db.get_or_404(Plan, plan_id))


def _initial_data(plan: Plan) -> dict:
    lines = {component.service: component for component in plan.composition}
    return {
        "name": plan.name,
        "plan_type": plan.plan_type,
        "contract_months": plan.contract_months,
        "monthly_value": plan.monthly_value,
        "composition": [
            {
                "service": service,
                "mode": lines[service].mode if service in lines else CompositionMode.percent.value,
                "amount": lines[service].amount if service in lines else None,
            }
            for service in fiscal.SERVICES
        ],
        "platform_id": plan.platform_id,
        "product_ids": [product.id for product in plan.products],
    }


def _new_form(plan: Plan | None) -> PlanForm:
    if request.method == "POST":
        form = PlanForm()
    elif plan is not None:
        form = PlanForm(data=_initial_data(plan))
    else:
        form = PlanForm(data={"composition": [{"service": s} for s in fiscal.SERVICES]})
    # The rows are the service kinds, in a fixed order, whatever was posted.
    for entry, service in zip(form.composition, fiscal.SERVICES, strict=False):
        entry.form.service.data = service
        amount = entry.form.amount
        if amount.typed is None and amount.data is not None:
            # A saved line reads as it was typed: reais with their cents, percentages as they are.
            is_value = entry.form.mode.data == CompositionMode.value.value
            amount.typed = number(amount.data, 2) if is_value else number(amount.data, 0, max_places=4)
    return form


def _terms(form: PlanForm, plan: Plan | None) -> plans_domain.PlanTerms:
    lines = tuple(
        fiscal.Line(entry.form.service.data, CompositionMode(entry.form.mode.data), entry.form.amount.data)
        for entry in form.composition
        if entry.form.amount.data is not None and entry.form.mode.data in CompositionMode._value2member_map_
    )
    return plans_domain.PlanTerms(
        name=form.name.data or "",
        plan_type=plan.plan_type if plan is not None else (form.plan_type.data or ""),
        contract_months=form.contract_months.data,
        monthly_value=form.monthly_value.data,
        composition=lines,
        platform_id=plan.platform_id if plan is not None else form.platform_id.data,
        product_ids=tuple(form.product_ids.data or ()),
    )


def _check_step(step: int, form: PlanForm, plan: Plan | None) -> bool:
    """Form checks, then the domain's, for one step; errors land next to their fields."""
    if not form.validate_step(step):
        return False
    terms = _terms(form, plan)
    checks = {
        1: lambda: plans_domain.check_identity(terms.name, terms.plan_type, plan),
        2: lambda: plans_domain.check_terms(terms.contract_months, terms.monthly_value, terms.composition),
        3: lambda: plans_domain.check_packages(PlanType(terms.plan_type), terms.platform_id, terms.product_ids, plan),
    }
    return step not in checks or bool(attempt(checks[step], form=form))


def _wizard(plan: Plan | None):
    form = _new_form(plan)
    if plan is not None:
        form.plan_type.data = plan.plan_type
    step = 1
    if request.method == "POST":
        posted_step = ascii_integer(request.form.get("step", "1"))
        if posted_step is None:
            abort(400)  # the page's own hidden field: only a crafted post gets here
        posted_step = min(max(posted_step, 1), REVIEW)
        action = request.form.get("action", "next")
        step = _advance(form, plan, posted_step, action)
        if step == 0:
            saved = _save(form, plan)
            if saved is not None:
                return saved
            step = _first_step_with_errors(form)
    return _render(form, plan, step)


def _advance(form: PlanForm, plan: Plan | None, posted_step: int, action: str) -> int:
    """The step to show next (0: save now)."""
    if action == "back":
        return max(posted_step - 1, 1)
    for step in range(1, min(posted_step, REVIEW - 1) + 1):
        if not _check_step(step, form, plan):
            return step
    if action == "efetivar" and posted_step == REVIEW:
        return 0
    return min(posted_step + 1, REVIEW)


def _first_step_with_errors(form: PlanForm) -> int:
    for step in sorted(PlanForm.STEPS):
        if any(field.errors for field in form.step_fields(step)):
            return step
    return REVIEW


def _save(form: PlanForm, plan: Plan | None):
    terms = _terms(form, plan)
    if plan is None:
        saved = attempt(
            lambda: plans_domain.create_plan(current_actor(), terms),
            form=form,
            success=lambda created: f"Plano {created.name} cadastrado.",
        )
    else:
        saved = attempt(
            lambda: plans_domain.update_plan(current_actor(), plan, terms),
            form=form,
            success=lambda updated: f"Plano {updated.name} salvo.",
        )
    return redirect(url_for("configuracoes.plan_detail", plan_id=saved.value.id)) if saved else None


def _render(form: PlanForm, plan: Plan | None, step: int):
    plan_type = plan.plan_type if plan is not None else form.plan_type.data
    platforms = (
        plans_domain.platforms_for(plan_type, include=plan.platform if plan else None)
        if plan_type in (PlanType._value2member_map_)
        else []
    )
    if plan is None and form.platform_id.data not in {p.id for p in platforms}:
        # The type changed since a platform was chosen (or none was): start step 3 afresh.
        _forget(form.platform_id, None)
        _forget(form.product_ids, [])
        if len(platforms) == 1:
            form.platform_id.data = platforms[0].id  # the only choice, already made
    form.platform_id.label.text = "Operadora" if plan_type == PlanType.tv_ott.value else "Fornecedor"
    form.platform_id.choices = [("", "Selecione…")] + [(p.id, p.name) for p in platforms]
    review = _review(form, plan, platforms) if step == REVIEW else None
    return render_template(
        "configuracoes/plan_wizard.html",
        form=form,
        plan=plan,
        step=step,
        review=review,
        platforms=platforms,
        carried=hidden_inputs(form.fields_outside(step)),
        services=fiscal.SERVICES,
    )


def _forget(field, empty) -> None:
    field.data, field.raw_data = empty, []


def _review(form: PlanForm, plan: Plan | None, platforms: list) -> dict:
    terms = _terms(form, plan)
    platform = next((p for p in platforms if p.id == terms.platform_id), None)
    return {
        "terms": terms,
        "type_label": PlanType(terms.plan_type).label,
        "resolved": fiscal.resolve(terms.monthly_value, terms.composition),
        "platform": platform,
        "products": [p for p in (platform.products if platform else []) if p.id in terms.product_ids],
    }


@bp.route("/planos/<int:plan_id>/situacao", methods=["POST"])
@requires(Role.admin)
def plan_set_active(plan_id: int):
    plan = db.get_or_404(Plan, plan_id)
    activate = posted_flag("active")
    attempt(
        lambda: plans_domain.set_plan_active(current_actor(), plan, activate),
        success=lambda saved: f"Plano {saved.name} {'reativado' if saved.active else 'desativado'}.",
    )
    return redirect(url_for("configuracoes.plans"))


@bp.route("/planos/<int:plan_id>/remover", methods=["POST"])
@requires(Role.admin)
def plan_delete(plan_id: int):
    plan = db.get_or_404(Plan, plan_id)
    attempt(lambda: plans_domain.delete_plan(current_actor(), plan), success=f"Plano {plan.name} removido.")
    return redirect(url_for("configuracoes.plans"))
