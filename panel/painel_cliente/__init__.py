"""Financeiro → Painel do Cliente: clients, contracts, invoices, contract history."""

from flask import Blueprint

bp = Blueprint("painel_cliente", __name__, url_prefix="/financeiro/painel-do-cliente")

from panel.painel_cliente import views  # noqa: E402,F401  (registers the views)
