"""The Painel do Cliente's screens, one module each."""

from panel.painel_cliente.views import clients, contracts, exports, invoices, titles  # noqa: F401  (registers the views)
