"""Integradores: Gerenciamento TV (ITTV) and Gerenciador de licenças (Skeelo)."""

from flask import Blueprint

bp = Blueprint("integradores", __name__, url_prefix="/integradores")

from panel.integradores import operations, routes, subscribers  # noqa: E402,F401
