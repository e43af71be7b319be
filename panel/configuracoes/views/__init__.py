"""The Configurações screens, one module each."""

from panel.configuracoes.views import audit, billing_rules, index, plans, platforms, products, users  # noqa: F401
