"""Login, logout and the user's own password."""

from __future__ import annotations

import math
import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from panel.auth import bp
from panel.auth import throttle as login_throttle
from panel.auth.forms import ChangePasswordForm, LoginForm
from panel.domain import DomainError
from panel.domain import users as users_domain
from panel.models import Role
from panel.security import LOGIN_AT, public, requires
from panel.web import attach_error, current_actor, safe_next


# The login throttle (panel/auth/throttle.py): every attempt whose form is valid takes its place
# in the throttle's windows before its password is checked; a good login then ends the run for
# that username, never for the address.
bp.record_once(lambda state: login_throttle.init_app(state.app))


def _wait_text(seconds: int) -> str:
    return f"{seconds} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    home = url_for("main.home")
    if current_user.is_authenticated:
        return redirect(home)
    form = LoginForm()
    if form.validate_on_submit():  # (an expired form never gets here: it counts nowhere)
        windows = login_throttle.windows_for(form.username.data, request.remote_addr or "127.0.0.1")
        wait = login_throttle.throttle().count_attempt(windows)
        if wait is not None:
            form.form_errors.append(f"Muitas tentativas. Tente de novo em {_wait_text(wait)}.")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = users_domain.authenticate(form.username.data, form.password.data, ip=request.remote_addr)
        if user is not None:
            login_throttle.throttle().end_username_run(windows)
            session.clear()  # nothing from before the login survives into the new session
            login_user(user)
            session.permanent = True
            session[LOGIN_AT] = time.time()
            return redirect(safe_next(request.args.get("next"), home))
        form.form_errors.append("Usuário ou senha inválidos.")
    return render_template("auth/login.html", form=form), 200


@bp.route("/logout", methods=["POST"])
@requires(Role.leitura)
def logout():
    users_domain.end_sessions(current_user._get_current_object(), current_actor())
    logout_user()
    session.clear()
    flash("Você saiu do painel.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/conta/senha", methods=["GET", "POST"])
@requires(Role.leitura)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            users_domain.change_own_password(current_actor(), user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            login_user(user)  # this session carries the new token; every other one has ended
            flash("Senha alterada. Suas outras sessões foram encerradas.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)
