"""The home page and the status the pages poll."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from panel.main import views  # noqa: E402,F401  (registers the views)
