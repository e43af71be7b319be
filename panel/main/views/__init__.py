"""The main screens, one module each."""

from panel.main.views import home, status  # noqa: F401  (registers the views)
