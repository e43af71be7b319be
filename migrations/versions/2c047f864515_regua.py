"""The régua runs by itself: its runs (one per rule and day), a block's origin on the subscriber,
a contract's exemption ("Não bloquear até"), and background operations.

Revision ID: 2c047f864515
Revises: 959997ad6f88
Create Date: 2026-11-30 13:57:03.917823

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "2c047f864515"
down_revision = "959997ad6f88"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "regua_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_title", sa.String(length=160), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum("cron", "cli", "admin", name="reguatrigger", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.Column("unblocked", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("skipped_reasons", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "queued", "running", "done", "failed", name="outboxstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_regua_runs_requested_by_id_users")),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["billing_rules.id"], name=op.f("fk_regua_runs_rule_id_billing_rules"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regua_runs")),
    )
    with op.batch_alter_table("regua_runs", schema=None) as batch_op:
        batch_op.create_index("ix_regua_runs_status_next_attempt", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("uq_regua_runs_day_rule", ["day", "rule_id"], unique=True)

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exempt_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("exempt_reason", sa.Text(), nullable=True))

    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("background", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("regua_run_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_operations_regua_run_id"), ["regua_run_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_operations_regua_run_id_regua_runs"),
            "regua_runs",
            ["regua_run_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "blocked_by",
                sa.Enum("operator", "regua", name="blockorigin", native_enum=False, length=16),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("block_rule_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("block_run_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_subscriptions_block_run_id_regua_runs"),
            "regua_runs",
            ["block_run_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_subscriptions_block_rule_id_billing_rules"),
            "billing_rules",
            ["block_rule_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.alter_column("background", server_default=None)
    # Every block made before today was an operator's (or a suspension's): payment never lifts it.
    op.execute("UPDATE subscriptions SET blocked_by = 'operator' WHERE desired_status <> 'active'")


def downgrade():
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_subscriptions_block_rule_id_billing_rules"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_subscriptions_block_run_id_regua_runs"), type_="foreignkey")
        batch_op.drop_column("block_run_id")
        batch_op.drop_column("block_rule_id")
        batch_op.drop_column("blocked_by")

    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_operations_regua_run_id_regua_runs"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_operations_regua_run_id"))
        batch_op.drop_column("regua_run_id")
        batch_op.drop_column("background")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("exempt_reason")
        batch_op.drop_column("exempt_until")

    with op.batch_alter_table("regua_runs", schema=None) as batch_op:
        batch_op.drop_index("uq_regua_runs_day_rule")
        batch_op.drop_index("ix_regua_runs_status_next_attempt")

    op.drop_table("regua_runs")
