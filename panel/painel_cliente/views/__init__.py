"""The Painel do Cliente's screens, one module each."""

from panel.painel_cliente.views import clients, contracts, invoices  # noqa: F401  (registers the views)
