"""The auth screens, one module each."""

from panel.auth.views import login, password  # noqa: F401  (registers the views)
