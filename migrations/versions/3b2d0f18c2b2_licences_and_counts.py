"""Licences and the overview: daily snapshots, the month's access changes, the tabs' counters, a platform's unit price.

Revision ID: 3b2d0f18c2b2
Revises: 3a1c0f18c1a1
Create Date: 2026-11-30 16:15:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "3b2d0f18c2b2"
down_revision = "3a1c0f18c1a1"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
