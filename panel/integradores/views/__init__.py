"""The Integradores screens, one module each: the menu, the subscriber lists, Operações, and the
states of the rows the lists follow (one request per page)."""

from panel.integradores.views import (  # noqa: F401
    exports,
    index,
    licences,
    operations,
    reconciliation,
    states,
    subscribers,
)
