"""Entry point for `flask --app app …` and gunicorn (`gunicorn app:app`)."""

from panel import create_app

app = create_app()
