"""Login, logout and the user's own password."""

from __future__ import annotations

import hashlib
import time

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from panel.auth import bp
from panel.auth.forms import ChangePasswordForm, LoginForm
from panel.domain import DomainError
from panel.domain import users as users_domain
from panel.extensions import limiter
from panel.models import Role
from panel.security import LOGIN_AT, public, requires
from panel.web import attach_error, current_actor, safe_next


# The login throttle (Flask-Limiter, counters in Redis). Only refused credentials count (the
# view marks them); a good login ends the run for that username, but never for the address, so
# one valid account cannot launder guesses at others from the same place.
#   - username + address: "five wrong passwords in a row" slow down that user from that address;
#   - username alone: a looser limit against guesses spread over many addresses;
#   - address alone: a looser limit against one address trying many usernames.


def _login_failed(_response) -> bool:
    return g.get("login_failed", False)


def _typed_username_hash() -> str:
    # Hashed: the throttle's Redis keys need not carry the typed login.
    typed = users_domain.normalise_username(request.form.get("username", ""))
    return hashlib.sha256(typed.encode()).hexdigest()[:32]


def _user_and_ip_key() -> str:
    return f"user-ip:{_typed_username_hash()}:{get_remote_address()}"


def _user_key() -> str:
    return f"user:{_typed_username_hash()}"


def _ip_key() -> str:
    return f"ip:{get_remote_address()}"


def _forget_username_failures() -> None:
    """A good login ends the run of failures for this username (not for this address)."""
    for limit, identifiers in limiter.context.conditional_deductions.items():
        if limit.key_func is not _ip_key:
            limiter.limiter.clear(limit.limit, *identifiers)


def _limit(config_key: str, key_func):
    return limiter.limit(
        lambda: current_app.config[config_key], key_func=key_func, methods=["POST"], deduct_when=_login_failed
    )


@bp.route("/login", methods=["GET", "POST"])
@public
@_limit("LOGIN_LIMIT_PER_USER_AND_IP", _user_and_ip_key)
@_limit("LOGIN_LIMIT_PER_USER", _user_key)
@_limit("LOGIN_LIMIT_PER_IP", _ip_key)
def login():
    home = url_for("main.home")
    if current_user.is_authenticated:
        return redirect(home)
    form = LoginForm()
    if form.validate_on_submit():
        user = users_domain.authenticate(form.username.data, form.password.data, ip=request.remote_addr)
        if user is not None:
            _forget_username_failures()
            session.clear()  # nothing from before the login survives into the new session
            login_user(user)
            session.permanent = True
            session[LOGIN_AT] = time.time()
            return redirect(safe_next(request.args.get("next"), home))
        g.login_failed = True
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
