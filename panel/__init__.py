"""Painel SVA. ``create_app`` (panel.factory) builds the app for `flask` and gunicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None):
    """The app (see panel.factory.create_app)."""
    from panel.factory import create_app as build  # (every panel.* import runs this module: the factory imports all)

    return build(overrides)
