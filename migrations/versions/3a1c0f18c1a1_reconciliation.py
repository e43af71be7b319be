"""Reconciliation: runs and the differences each found; a platform's automatic correction.

Revision ID: 3a1c0f18c1a1
Revises: 2c047f864515
Create Date: 2026-11-30 16:15:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "3a1c0f18c1a1"
down_revision = "2c047f864515"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
