"""Login, logout and the user's own password."""

from flask import Blueprint

from panel.auth import throttle as login_throttle

bp = Blueprint("auth", __name__)

# The login throttle (panel/auth/throttle.py), set up with the app the blueprint is registered on.
bp.record_once(lambda state: login_throttle.init_app(state.app))

from panel.auth import views  # noqa: E402,F401  (registers the views)
