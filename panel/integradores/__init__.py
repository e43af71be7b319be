"""Integradores: Gerenciamento TV (ITTV) and Gerenciador de licenças (Skeelo)."""

from flask import Blueprint

bp = Blueprint("integradores", __name__, url_prefix="/integradores")

from panel.integradores import views  # noqa: E402,F401  (the routes register on bp)
