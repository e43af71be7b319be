"""One outbox: platform tasks (Testar conexão, Sincronizar produtos) share the operations' lifecycle
— attempts, deliveries, a lease, a later try, and the "pending" status before the queue has them.

Revision ID: 959997ad6f88
Revises: 7fa10860cbcf
Create Date: 2026-11-30 13:19:15.585688

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "959997ad6f88"
down_revision = "7fa10860cbcf"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('queued', 'running', 'done', 'failed')"
NEW_STATUSES = "status IN ('pending', 'queued', 'running', 'done', 'failed')"


def upgrade():
    with op.batch_alter_table("platform_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("deliveries", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_platform_tasks_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", NEW_STATUSES)
        batch_op.create_index("ix_platform_tasks_status_next_attempt", ["status", "next_attempt_at"], unique=False)
    # Existing tasks: one attempt each (they ran, or were taken as lost), last touched when they ended.
    op.execute(
        "UPDATE platform_tasks SET updated_at = COALESCE(finished_at, started_at, created_at), "
        "attempts = CASE WHEN started_at IS NULL THEN 0 ELSE 1 END"
    )
    with op.batch_alter_table("platform_tasks", schema=None) as batch_op:
        batch_op.alter_column("attempts", server_default=None)
        batch_op.alter_column("deliveries", server_default=None)
        batch_op.alter_column("updated_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    op.execute("UPDATE platform_tasks SET status = 'failed' WHERE status = 'pending'")
    with op.batch_alter_table("platform_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_tasks_status_next_attempt")
        batch_op.drop_constraint(batch_op.f("ck_platform_tasks_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", OLD_STATUSES)
        batch_op.drop_column("updated_at")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("deliveries")
        batch_op.drop_column("attempts")
