"""Configurações → Usuários (admins only)."""

from flask import abort, flash, redirect, render_template, request, url_for

from panel.configuracoes import bp
from panel.configuracoes.forms import ResetPasswordForm, UserCreateForm, UserEditForm
from panel.domain import DomainError
from panel.domain import audit
from panel.domain import users as users_domain
from panel.extensions import db
from panel.inputs import is_integer_text
from panel.models import Role, User
from panel.security import requires
from panel.web import attach_error, current_actor, id_arg, posted_flag


def _load_user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/usuarios")
@requires(Role.admin)
def users():
    return render_template("configuracoes/users.html", users=users_domain.list_users())


@bp.route("/usuarios/novo", methods=["GET", "POST"])
@requires(Role.admin)
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = users_domain.create_user(
                current_actor(),
                username=form.username.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
            )
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"Usuário {user.username} criado.", "success")
            return redirect(url_for("configuracoes.users"))
    return render_template("configuracoes/user_form.html", form=form, user=None)


@bp.route("/usuarios/<int:user_id>", methods=["GET", "POST"])
@requires(Role.admin)
def user_edit(user_id: int):
    user = _load_user(user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            users_domain.update_user(current_actor(), user, name=form.name.data, role=form.role.data, active=user.active)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"Usuário {user.username} salvo.", "success")
            return redirect(url_for("configuracoes.users"))
    return render_template(
        "configuracoes/user_form.html", form=form, user=user, reset_form=ResetPasswordForm(formdata=None)
    )


@bp.route("/usuarios/<int:user_id>/senha", methods=["POST"])
@requires(Role.admin)
def user_reset_password(user_id: int):
    user = _load_user(user_id)
    reset_form = ResetPasswordForm()
    if reset_form.validate_on_submit():
        try:
            users_domain.reset_password(current_actor(), user, reset_form.password.data)
        except DomainError as error:
            attach_error(reset_form, error)
        else:
            flash(f"Senha de {user.username} redefinida; as sessões abertas dele foram encerradas.", "success")
            return redirect(url_for("configuracoes.users"))
    form = UserEditForm(obj=user, formdata=None)
    return render_template("configuracoes/user_form.html", form=form, user=user, reset_form=reset_form), 422


@bp.route("/usuarios/<int:user_id>/situacao", methods=["POST"])
@requires(Role.admin)
def user_set_active(user_id: int):
    """The list's Desativar / Reativar button (asks for confirmation first)."""
    user = _load_user(user_id)
    activate = posted_flag("active")
    try:
        users_domain.set_active(current_actor(), user, activate)
    except DomainError as error:
        flash(error.message, "danger")
    else:
        flash(f"Usuário {user.username} {'reativado' if activate else 'desativado'}.", "success")
    return redirect(url_for("configuracoes.users"))


AUDIT_PAGE_SIZE = 50


@bp.route("/auditoria")
@requires(Role.admin)
def audit_log():
    """Every audited action, newest first, paged by keyset (?antes=<id>)."""
    typed = request.args.get("antes")
    before_id = id_arg("antes")
    if before_id is None and is_integer_text(typed):
        abort(400)  # a number, but no id (0, -5, 10²³); text that is no number ("٣") is ignored
    events = audit.recent_events(limit=AUDIT_PAGE_SIZE + 1, before_id=before_id)
    has_more = len(events) > AUDIT_PAGE_SIZE
    events = events[:AUDIT_PAGE_SIZE]
    return render_template(
        "configuracoes/audit_log.html",
        events=events,
        next_url=url_for("configuracoes.audit_log", antes=events[-1].id) if has_more else None,
        prev_url=url_for("configuracoes.audit_log") if before_id else None,
    )
