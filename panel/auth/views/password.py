"""*Alterar senha*: the user's own password."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user, login_user

from panel.auth import bp
from panel.auth.forms import ChangePasswordForm
from panel.domain import users as users_domain
from panel.models import Role
from panel.security import requires
from panel.web import attempt, current_actor


@bp.route("/conta/senha", methods=["GET", "POST"])
@requires(Role.leitura)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if attempt(
            lambda: users_domain.change_own_password(
                current_actor(), user, form.current_password.data, form.new_password.data
            ),
            form=form,
            success="Senha alterada. Suas outras sessões foram encerradas.",
        ):
            login_user(user)  # this session carries the new token; every other one has ended
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)
