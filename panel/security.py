"""Who may open what, decided in one place: deny by default.

Every request passes ``guard`` before anything else runs (it is registered before CSRF): an
anonymous user is sent to the login page unless the view is marked ``@public``; a logged-in user
needs the role the view declares with ``@requires``. A view that declares nothing is refused, so
a new route is never open by accident. Blueprints we do not own (rq-dashboard) get their role
from ``BLUEPRINT_ROLES``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from panel.models import Role

F = TypeVar("F", bound=Callable)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Blueprints registered from other packages, whose views we cannot decorate.
BLUEPRINT_ROLES: dict[str, Role] = {"rq_dashboard": Role.admin}
PUBLIC_ENDPOINTS = frozenset({"static"})
# Set at login; a session ends this long after it, however active (polling refreshes the cookie).
LOGIN_AT = "login_at"


def requires(role: Role, *, write: Role | None = None) -> Callable[[F], F]:
    """Declare who may use a view: ``role`` to read it, ``write`` (default: the same) to POST."""

    def decorate(view: F) -> F:
        view.required_role = role  # type: ignore[attr-defined]
        view.required_write_role = write or role  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: F) -> F:
    """Reachable without logging in (the login page only)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def required_role(endpoint: str | None, method: str) -> Role | None:
    """The role an endpoint needs for a method; None when it declares nothing (refused)."""
    if endpoint is None:
        return None
    blueprint = endpoint.rpartition(".")[0]
    if blueprint in BLUEPRINT_ROLES:
        return BLUEPRINT_ROLES[blueprint]
    view = current_app.view_functions.get(endpoint)
    if method in SAFE_METHODS:
        return getattr(view, "required_role", None)
    return getattr(view, "required_write_role", None)


def is_public(endpoint: str | None) -> bool:
    if endpoint in PUBLIC_ENDPOINTS:
        return True
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return bool(getattr(view, "is_public", False))


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def session_expired() -> bool:
    started = session.get(LOGIN_AT)
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    return not isinstance(started, (int, float)) or time.time() - started > lifetime


def _to_login(message: str | None):
    if message:
        flash(message, "info")
    if wants_json():
        abort(401)
    # Only a page the user can come back to is remembered (never a POST target or a bad URL).
    remember = request.method == "GET" and request.routing_exception is None
    target = request.full_path.rstrip("?") if remember else None
    return redirect(url_for("auth.login", next=target) if target else url_for("auth.login"))


def guard():
    endpoint = request.endpoint
    if is_public(endpoint):
        return None
    if not current_user.is_authenticated:
        # A cookie that names a user who is no longer let in: logged out elsewhere, password
        # reset, deactivated. Say so instead of showing a bare login page.
        ended = "_user_id" in session
        if ended:
            session.clear()
        return _to_login("Sua sessão foi encerrada. Entre novamente." if ended else None)
    if session_expired():
        logout_user()
        session.clear()
        return _to_login("Sua sessão expirou. Entre novamente.")
    if request.routing_exception is not None:
        return None  # 404/405 for a logged-in user: let Flask answer it
    role = required_role(endpoint, request.method)
    if role is None or not current_user.has_role(role):
        abort(403)
    return None


# Pages never run inline script (panel.jobs.dashboard sets its own policy for rq-dashboard).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint not in PUBLIC_ENDPOINTS:
        # Pages show personal data: never keep them in a shared browser's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    """Register the guard. Must run before CSRFProtect.init_app so that an anonymous POST is sent
    to the login page instead of failing CSRF."""
    app.before_request(guard)
    app.after_request(security_headers)
