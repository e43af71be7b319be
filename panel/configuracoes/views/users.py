"""Configurações → Usuários (admins only): the panel's users, their profiles and passwords."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from panel.configuracoes import bp
from panel.configuracoes.forms import ResetPasswordForm, UserCreateForm, UserEditForm
from panel.domain import users as users_domain
from panel.extensions import db
from panel.models import Role, User
from panel.security import requires
from panel.web import attempt, current_actor, posted_flag


@bp.route("/usuarios")
@requires(Role.admin)
def users():
    return render_template("configuracoes/users.html", users=users_domain.list_users())


@bp.route("/usuarios/novo", methods=["GET", "POST"])
@requires(Role.admin)
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit() and attempt(
        lambda: users_domain.create_user(
            current_actor(),
            username=form.username.data,
            name=form.name.data,
            role=form.role.data,
            password=form.password.data,
        ),
        form=form,
        success=lambda user: f"Usuário {user.username} criado.",
    ):
        return redirect(url_for("configuracoes.users"))
    return render_template("configuracoes/user_form.html", form=form, user=None)


@bp.route("/usuarios/<int:user_id>", methods=["GET", "POST"])
@requires(Role.admin)
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit() and attempt(
        lambda: users_domain.update_user(
            current_actor(), user, name=form.name.data, role=form.role.data, active=user.active
        ),
        form=form,
        success=f"Usuário {user.username} salvo.",
    ):
        return redirect(url_for("configuracoes.users"))
    return render_template(
        "configuracoes/user_form.html", form=form, user=user, reset_form=ResetPasswordForm(formdata=None)
    )


@bp.route("/usuarios/<int:user_id>/senha", methods=["POST"])
@requires(Role.admin)
def user_reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    reset_form = ResetPasswordForm()
    if reset_form.validate_on_submit() and attempt(
        lambda: users_domain.reset_password(current_actor(), user, reset_form.password.data),
        form=reset_form,
        success=f"Senha de {user.username} redefinida; as sessões abertas dele foram encerradas.",
    ):
        return redirect(url_for("configuracoes.users"))
    form = UserEditForm(obj=user, formdata=None)
    return render_template("configuracoes/user_form.html", form=form, user=user, reset_form=reset_form), 422


@bp.route("/usuarios/<int:user_id>/situacao", methods=["POST"])
@requires(Role.admin)
def user_set_active(user_id: int):
    """The list's Desativar / Reativar button (asks for confirmation first)."""
    user = db.get_or_404(User, user_id)
    activate = posted_flag("active")
    attempt(
        lambda: users_domain.set_active(current_actor(), user, activate),
        success=f"Usuário {user.username} {'reativado' if activate else 'desativado'}.",
    )
    return redirect(url_for("configuracoes.users"))
