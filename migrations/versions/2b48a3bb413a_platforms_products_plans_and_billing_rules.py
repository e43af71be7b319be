"""platforms, products, plans and billing rules

Revision ID: 2b48a3bb413a
Revises: 094401b323f7
Create Date: 2026-11-24 09:36:21.619046

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "2b48a3bb413a"
down_revision = "094401b323f7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "platforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("server_url", sa.String(length=255), nullable=False),
        sa.Column("token_ciphertext", sa.Text(), nullable=False),
        sa.Column("token_set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("concurrency_limit BETWEEN 1 AND 64", name=op.f("ck_platforms_concurrency_limit_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platforms")),
        sa.UniqueConstraint("code", name=op.f("uq_platforms_code")),
    )
    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platforms_kind"), ["kind"], unique=False)

    op.create_table(
        "billing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=120), nullable=False),
        sa.Column("rule_type", sa.String(length=32), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.Column("unblock_on_payment", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('tv_block', 'tv_partial_block', 'sva_block')", name=op.f("ck_billing_rules_action_known")
        ),
        sa.CheckConstraint("rule_type IN ('connection_maintenance')", name=op.f("ck_billing_rules_rule_type_known")),
        sa.CheckConstraint("days_overdue BETWEEN 1 AND 365", name=op.f("ck_billing_rules_days_overdue_range")),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"], name=op.f("fk_billing_rules_platform_id_platforms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_rules")),
    )
    with op.batch_alter_table("billing_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_billing_rules_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("plan_type", sa.String(length=16), nullable=False),
        sa.Column("contract_months", sa.Integer(), nullable=False),
        sa.Column("monthly_value", sa.BigInteger(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("plan_type IN ('tv_ott', 'sva')", name=op.f("ck_plans_plan_type_known")),
        sa.CheckConstraint("contract_months BETWEEN 1 AND 120", name=op.f("ck_plans_contract_months_range")),
        sa.CheckConstraint("monthly_value > 0", name=op.f("ck_plans_monthly_value_positive")),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"], name=op.f("fk_plans_platform_id_platforms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_plans_name")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "platform_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.CheckConstraint("kind IN ('test_connection', 'sync_products')", name=op.f("ck_platform_tasks_kind_known")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_platform_tasks_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_platform_tasks_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_platform_tasks_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_tasks")),
    )
    with op.batch_alter_table("platform_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_tasks_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("is_base", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"], name=op.f("fk_products_platform_id_platforms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("platform_id", "code", name="uq_products_platform_code"),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "plan_components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=8), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("mode IN ('percent', 'value')", name=op.f("ck_plan_components_mode_known")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_plan_components_amount_positive")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_components_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_components")),
    )
    with op.batch_alter_table("plan_components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_components_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_products",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_products_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_plan_products_product_id_products"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("plan_id", "product_id", name=op.f("pk_plan_products")),
    )
    with op.batch_alter_table("plan_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_products_product_id"), ["product_id"], unique=False)


def downgrade():
    with op.batch_alter_table("plan_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_products_product_id"))

    op.drop_table("plan_products")
    with op.batch_alter_table("plan_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_components_plan_id"))

    op.drop_table("plan_components")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_platform_id"))

    op.drop_table("products")
    with op.batch_alter_table("platform_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_tasks_platform_id"))

    op.drop_table("platform_tasks")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_platform_id"))

    op.drop_table("plans")
    with op.batch_alter_table("billing_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_rules_platform_id"))

    op.drop_table("billing_rules")
    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platforms_kind"))

    op.drop_table("platforms")
