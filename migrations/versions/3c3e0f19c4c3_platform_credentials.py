"""Platform credentials by kind (Watch Brasil: client id and client secret).

Revision ID: 3c3e0f19c4c3
Revises: 3b2d0f18c2b2
Create Date: 2026-11-30 16:15:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "3c3e0f19c4c3"
down_revision = "3b2d0f18c2b2"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
