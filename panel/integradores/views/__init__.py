"""The Integradores screens, one module each: the menu, the subscriber lists, Operações, and the
states of the rows the lists follow (one request per page)."""

from panel.integradores.views import index, licences, operations, states, subscribers  # noqa: F401
