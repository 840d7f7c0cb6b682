"""The score log keeps each score's feature bins (``scoring.drift``): the monitor's drift input.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: rows logged before, and models without a training profile, have none
    op.add_column("score_log", sa.Column("feature_bins", sa.Text))


def downgrade() -> None:
    op.drop_column("score_log", "feature_bins")
