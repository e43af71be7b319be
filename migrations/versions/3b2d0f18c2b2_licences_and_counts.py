"""Licences and the overview: daily snapshots, the month's access changes, the tabs' counters, a platform's unit price.

Also an index on operations (status, updated_at): the overview's failures of the last 24 h.

The counters and the access-change log are written by triggers on ``subscriptions`` (the same
text as panel/models/licence.py; copied, so that this revision stays what it was when the models
move on). The counters start from the subscriptions there are; the log starts now.

Revision ID: 3b2d0f18c2b2
Revises: 3a1c0f18c1a1
Create Date: 2026-11-30 16:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3b2d0f18c2b2"
down_revision = "3a1c0f18c1a1"
branch_labels = None
depends_on = None

PG_TRIGGERS = [
    """
CREATE OR REPLACE FUNCTION subscriptions_track_tab() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) VALUES (NEW.platform_id, NEW.list_tab, 1);
    INSERT INTO access_changes (subscription_id, platform_id, changed_at, from_tab, to_tab)
      VALUES (NEW.id, NEW.platform_id, now(), NULL, NEW.list_tab);
  ELSE
    INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta)
      VALUES (OLD.platform_id, OLD.list_tab, -1), (NEW.platform_id, NEW.list_tab, 1);
    INSERT INTO access_changes (subscription_id, platform_id, changed_at, from_tab, to_tab)
      VALUES (NEW.id, NEW.platform_id, now(), OLD.list_tab, NEW.list_tab);
  END IF;
  RETURN NULL;
END $$
""",
    "CREATE TRIGGER subscriptions_tab_insert AFTER INSERT ON subscriptions FOR EACH ROW "
    "EXECUTE FUNCTION subscriptions_track_tab()",
    "CREATE TRIGGER subscriptions_tab_update AFTER UPDATE OF list_tab, platform_id ON subscriptions FOR EACH ROW "
    "WHEN (OLD.list_tab IS DISTINCT FROM NEW.list_tab OR OLD.platform_id IS DISTINCT FROM NEW.platform_id) "
    "EXECUTE FUNCTION subscriptions_track_tab()",
]

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER subscriptions_tab_insert AFTER INSERT ON subscriptions BEGIN
  INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) VALUES (NEW.platform_id, NEW.list_tab, 1);
  INSERT INTO access_changes (subscription_id, platform_id, changed_at, from_tab, to_tab)
    VALUES (NEW.id, NEW.platform_id, {_SQLITE_NOW}, NULL, NEW.list_tab);
END""",
    f"""CREATE TRIGGER subscriptions_tab_update AFTER UPDATE OF list_tab, platform_id ON subscriptions
WHEN OLD.list_tab IS NOT NEW.list_tab OR OLD.platform_id IS NOT NEW.platform_id BEGIN
  INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) VALUES (OLD.platform_id, OLD.list_tab, -1);
  INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) VALUES (NEW.platform_id, NEW.list_tab, 1);
  INSERT INTO access_changes (subscription_id, platform_id, changed_at, from_tab, to_tab)
    VALUES (NEW.id, NEW.platform_id, {_SQLITE_NOW}, OLD.list_tab, NEW.list_tab);
END""",
]


def upgrade():
    op.create_table(
        "licence_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("active", sa.BigInteger(), nullable=False),
        sa.Column("blocked", sa.BigInteger(), nullable=False),
        sa.Column("inactive", sa.BigInteger(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_licence_snapshots_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_snapshots")),
        sa.UniqueConstraint("platform_id", "day", name="uq_licence_snapshots_platform_day"),
    )
    op.create_table(
        "subscription_tab_deltas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("list_tab", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_subscription_tab_deltas_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_tab_deltas")),
    )
    with op.batch_alter_table("subscription_tab_deltas", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscription_tab_deltas_platform_tab", ["platform_id", "list_tab", "delta"], unique=False
        )
    op.create_table(
        "access_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_tab", sa.String(length=16), nullable=True),
        sa.Column("to_tab", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_access_changes_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["subscriptions.id"], name=op.f("fk_access_changes_subscription_id_subscriptions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_changes")),
    )
    with op.batch_alter_table("access_changes", schema=None) as batch_op:
        batch_op.create_index("ix_access_changes_platform_changed_at", ["platform_id", "changed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_changes_subscription_id"), ["subscription_id"], unique=False)
    op.create_table(
        "licence_members",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("days >= 0", name=op.f("ck_licence_members_days_not_negative")),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_licence_members_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["subscriptions.id"], name=op.f("fk_licence_members_subscription_id_subscriptions")
        ),
        sa.PrimaryKeyConstraint("platform_id", "month", "subscription_id", name=op.f("pk_licence_members")),
    )
    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_price", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "billing_mode",
                sa.Enum("any_moment", "snapshot_day", name="billingmode", native_enum=False, length=16),
                server_default="any_moment",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("snapshot_day", sa.Integer(), nullable=True))
        batch_op.create_check_constraint("billing_mode_known", "billing_mode IN ('any_moment', 'snapshot_day')")
        batch_op.create_check_constraint("snapshot_day_range", "snapshot_day IS NULL OR snapshot_day BETWEEN 1 AND 28")

    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.create_index("ix_operations_status_updated_at", ["status", "updated_at"], unique=False)

    # The counters start from the subscriptions there are; then the triggers keep them.
    op.execute(
        "INSERT INTO subscription_tab_deltas (platform_id, list_tab, delta) "
        "SELECT platform_id, list_tab, COUNT(*) FROM subscriptions GROUP BY platform_id, list_tab"
    )
    dialect = op.get_bind().dialect.name
    for statement in PG_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(sa.text(statement))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS subscriptions_track_tab() CASCADE")
    else:
        op.execute("DROP TRIGGER IF EXISTS subscriptions_tab_insert")
        op.execute("DROP TRIGGER IF EXISTS subscriptions_tab_update")
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index("ix_operations_status_updated_at")
    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.drop_constraint("snapshot_day_range", type_="check")
        batch_op.drop_constraint("billing_mode_known", type_="check")
        batch_op.drop_column("snapshot_day")
        batch_op.drop_column("billing_mode")
        batch_op.drop_column("unit_price")
    op.drop_table("licence_members")
    with op.batch_alter_table("access_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_changes_subscription_id"))
        batch_op.drop_index("ix_access_changes_platform_changed_at")
    op.drop_table("access_changes")
    with op.batch_alter_table("subscription_tab_deltas", schema=None) as batch_op:
        batch_op.drop_index("ix_subscription_tab_deltas_platform_tab")
    op.drop_table("subscription_tab_deltas")
    op.drop_table("licence_snapshots")
