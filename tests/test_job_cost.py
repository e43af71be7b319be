"""What one operation costs the database: the statements a run sends, counted on the real engine
(the issue's goal: the claim and what it needs in one or two statements, no lazy load on the
running path)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from panel.extensions import db
from panel.jobs import provisioning
from tests.provisioning import act, history, operation, platform_at, subscription

# peek 1; claim: lock, take, load (+ the client's subscribers at ITTV); complete: lock, the
# operation, the subscriber, the history line, the hand-on of what waited.
# +1: the platform's product names, read with the claim, so that the answer names packages
# as operators know them (panel.domain.products.names_by_code).
MOST_STATEMENTS = {"skeelo": 10, "ittv": 11}


class Counted:
    """Statements sent to the database, and ORM loads of a relationship (lazy loads)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.lazy_loads: list[str] = []

    def on_cursor(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(" ".join(statement.split())[:140])

    def on_orm(self, state) -> None:
        if state.is_relationship_load:
            self.lazy_loads.append(str(state.statement)[:140])

    def __enter__(self) -> Counted:
        event.listen(db.engine, "before_cursor_execute", self.on_cursor)
        event.listen(db.session, "do_orm_execute", self.on_orm)
        return self

    def __exit__(self, *exc_info) -> None:
        event.remove(db.engine, "before_cursor_execute", self.on_cursor)
        event.remove(db.session, "do_orm_execute", self.on_orm)


@pytest.mark.parametrize("kind", ["ittv", "skeelo"])
def test_an_operation_runs_in_a_few_statements_without_lazy_loads(app, sandbox_for, kind):
    setup = platform_at(app, sandbox_for(kind))
    contract_id = setup.contract(app)
    op_id = act(app, contract_id, "sync")
    with app.app_context(), Counted() as counted:
        assert provisioning.run_operation(op_id) == "done"
    assert counted.lazy_loads == []
    assert len(counted.statements) <= MOST_STATEMENTS[kind], "\n".join(counted.statements)
    # ...and it did all an operation does: the platform has the subscriber, our rows say so.
    assert operation(app, op_id).status.value == "done"
    assert subscription(app, contract_id).remote_status == "active"
    assert any(": resposta da " in asked and answer for _, asked, answer in history(app, contract_id))
    assert len(setup.sandbox.records()) == 1
