"""Configurações: platforms, products, plans, réguas, and the panel's users."""

from flask import Blueprint

bp = Blueprint("configuracoes", __name__, url_prefix="/configuracoes")

from panel.configuracoes import views  # noqa: E402,F401  (the routes register on bp)
