"""Reconciliation: runs and the differences each found; a platform's automatic correction.

Revision ID: 3a1c0f18c1a1
Revises: 2c047f864515
Create Date: 2026-11-30 16:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3a1c0f18c1a1"
down_revision = "2c047f864515"
branch_labels = None
depends_on = None


OUTBOX_STATUS = ("pending", "queued", "running", "done", "failed")


def upgrade():
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum("cron", "admin", "cli", name="reconciliationtrigger", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("platform_count", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("status", sa.Enum(*OUTBOX_STATUS, name="outboxstatus", native_enum=False, length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by_name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_reconciliation_runs_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_reconciliation_runs_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliation_runs_platform_id_id", ["platform_id", "id"], unique=False)
        batch_op.create_index("ix_reconciliation_runs_status_next_attempt", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "reconciliation_differences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "active_there",
                "blocked_there",
                "packages",
                "unknown",
                "missing_there",
                name="differencekind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("external_ref", sa.String(length=64), nullable=True),
        sa.Column("document", sa.String(length=20), nullable=True),
        sa.Column("name", sa.String(length=160), nullable=True),
        sa.Column("remote_status", sa.String(length=32), nullable=True),
        sa.Column("remote_products", sa.JSON(), nullable=True),
        sa.Column("remote_access", sa.String(length=16), nullable=True),
        sa.Column("our_status", sa.String(length=16), nullable=True),
        sa.Column(
            "resolution",
            sa.Enum("corrected", "accepted", "linked", name="resolution", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by_name", sa.String(length=120), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_differences_run_id_reconciliation_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_reconciliation_differences_subscription_id_subscriptions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_reconciliation_differences_resolved_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_differences")),
    )
    with op.batch_alter_table("reconciliation_differences", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliation_differences_run_kind_id", ["run_id", "kind", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reconciliation_differences_subscription_id"), ["subscription_id"], unique=False
        )

    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_correct", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_in_run_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_subscriptions_platform_external_id", ["platform_id", "external_id"], unique=False)


def downgrade():
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_subscriptions_platform_external_id")
        batch_op.drop_column("seen_in_run_id")

    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.drop_column("auto_correct")

    with op.batch_alter_table("reconciliation_differences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_differences_subscription_id"))
        batch_op.drop_index("ix_reconciliation_differences_run_kind_id")
    op.drop_table("reconciliation_differences")

    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliation_runs_status_next_attempt")
        batch_op.drop_index("ix_reconciliation_runs_platform_id_id")
    op.drop_table("reconciliation_runs")
