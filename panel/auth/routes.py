"""Login, logout and the user's own password."""

from __future__ import annotations

import hashlib

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from panel.auth import bp
from panel.auth.forms import ChangePasswordForm, LoginForm
from panel.domain import DomainError
from panel.domain import users as users_domain
from panel.extensions import limiter
from panel.models import Role
from panel.security import public, requires
from panel.web import attach_error, current_actor, safe_next


def _login_failed(response) -> bool:
    # Only failed attempts count towards the throttle: a good login redirects.
    return response.status_code not in (302, 303)


def _forget_failures() -> None:
    """A good login ends the run of failures ("five wrong passwords in a row"): clear this
    request's counters, for this username and this address."""
    for limit, identifiers in limiter.context.conditional_deductions.items():
        limiter.limiter.clear(limit.limit, *identifiers)


def _ip_key() -> str:
    return "ip:" + get_remote_address()


def _username_key() -> str:
    # Hashed: the throttle's Redis keys need not carry the typed login.
    typed = users_domain.normalise_username(request.form.get("username", ""))
    return "user:" + hashlib.sha256(typed.encode()).hexdigest()[:32]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], key_func=_ip_key, methods=["POST"], deduct_when=_login_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_USER"], key_func=_username_key, methods=["POST"], deduct_when=_login_failed)
def login():
    home = url_for("main.home")
    if current_user.is_authenticated:
        return redirect(home)
    form = LoginForm()
    if form.validate_on_submit():
        user = users_domain.authenticate(form.username.data, form.password.data, ip=request.remote_addr)
        if user is not None:
            _forget_failures()
            session.clear()  # nothing from before the login survives into the new session
            login_user(user)
            session.permanent = True
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
