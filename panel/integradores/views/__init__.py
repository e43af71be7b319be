"""The Integradores screens, one module each: the menu, the subscriber lists and Operações."""

from panel.integradores.views import index, operations, subscribers  # noqa: F401
