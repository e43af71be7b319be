"""Where a transaction ends: one commit point per unit of work (domain functions only flush).

- A request commits when its response is ready and says it went well (status below 400), or
  rolls back; the after-commit hooks then run (the outbox rows it recorded go to the queue)
  before the response leaves, so an operator never reads "solicitado" for something not saved.
- A job commits each of its steps (``unit_of_work``): a fresh transaction in, committed out, none
  held open while a platform answers.
- Any other app context — a CLI command, a script, a test — commits when it ends without an
  exception (``with app.app_context(): …``), like a request that went well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g

from panel.extensions import db


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One step of a job: a fresh transaction (it sees the latest rows), committed at the end of
    the block, or rolled back on an exception."""
    db.session.rollback()
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _finish(commit: bool) -> None:
    """Commit (or roll back); a commit that fails is rolled back before the error goes on, so
    no connection is left holding the transaction (and, on SQLite, the database's lock)."""
    if not (commit and db.session.is_active):
        db.session.rollback()
        return
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _end_request(response):
    g.request_transaction_ended = True
    _finish(response.status_code < 400)
    return response


def _end_app_context(exc: BaseException | None) -> None:
    if g.get("request_transaction_ended"):
        return  # a request: already committed or rolled back with its response
    _finish(exc is None)


def init_app(app: Flask) -> None:
    """Must run after ``db.init_app``: teardown functions run last-registered first, and this
    one must come before Flask-SQLAlchemy's ``session.remove()``."""
    app.after_request(_end_request)
    app.teardown_appcontext(_end_app_context)
