"""Login and logout."""

from __future__ import annotations

import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from panel.auth import bp
from panel.auth import throttle as login_throttle
from panel.auth.forms import LoginForm
from panel.domain import users as users_domain
from panel.models import Role
from panel.security import LOGIN_AT, public, requires
from panel.web import attempt, current_actor, safe_next


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    home = url_for("main.home")
    if current_user.is_authenticated:
        return redirect(home)
    form = LoginForm()
    if form.validate_on_submit():  # (an expired form never gets here: it counts nowhere)
        # Every attempt takes its place in the throttle's windows before its password is checked;
        # a good login then ends the run for that username, never for the address.
        windows = login_throttle.windows_for(form.username.data, request.remote_addr or "127.0.0.1")
        wait = login_throttle.throttle().count_attempt(windows)
        if wait is not None:
            form.form_errors.append(f"Muitas tentativas. Tente de novo em {login_throttle.wait_text(wait)}.")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        checked = attempt(
            lambda: users_domain.authenticate(form.username.data, form.password.data, ip=request.remote_addr), form=form
        )
        if checked.value is not None:
            login_throttle.throttle().end_username_run(windows)
            session.clear()  # nothing from before the login survives into the new session
            login_user(checked.value)
            session.permanent = True
            session[LOGIN_AT] = time.time()
            return redirect(safe_next(request.args.get("next"), home))
        if checked:  # wrong credentials: the refusal, audited, is committed with this 200 response
            form.form_errors.append("Usuário ou senha inválidos.")
    return render_template("auth/login.html", form=form), 200


@bp.route("/logout", methods=["POST"])
@requires(Role.leitura)
def logout():
    if attempt(lambda: users_domain.end_sessions(current_user._get_current_object(), current_actor())):
        logout_user()
        session.clear()
        flash("Você saiu do painel.", "info")  # after session.clear(): the flash lives in the session
        return redirect(url_for("auth.login"))
    return redirect(url_for("main.home"))
