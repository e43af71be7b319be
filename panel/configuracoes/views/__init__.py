"""The Configurações screens, one module each."""

from panel.configuracoes.views import (  # noqa: F401  (registers the views)
    audit,
    billing_rules,
    index,
    plans,
    platforms,
    products,
    regua,
    users,
)
