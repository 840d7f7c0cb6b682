"""The live store's first schema: live leads, activities, verdicts, and the score log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.String(1000)


def upgrade() -> None:
    op.create_table(
        "live_leads",
        sa.Column("lead_id", _ID, primary_key=True),
        sa.Column("created_at", sa.DateTime), sa.Column("source", sa.Text),
        sa.Column("title", sa.Text), sa.Column("company_size", sa.Text),
        sa.Column("industry", sa.Text), sa.Column("country", sa.Text),
        sa.Column("email_domain", sa.Text), sa.Column("mql_at", sa.DateTime),
        sa.Column("campaign", sa.Text), sa.Column("attributes", sa.JSON),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "live_activities",
        sa.Column("lead_id", _ID, primary_key=True),
        sa.Column("occurred_at", sa.DateTime, primary_key=True),
        sa.Column("activity_type", sa.String(1000), primary_key=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "live_dispositions",
        sa.Column("lead_id", _ID, primary_key=True),
        sa.Column("dispositioned_at", sa.DateTime, primary_key=True),
        sa.Column("status", sa.String(1000), primary_key=True),
        sa.Column("reason_code", sa.Text), sa.Column("rep_id", sa.Text),
        sa.Column("attempts", sa.BigInteger), sa.Column("first_touch_at", sa.DateTime),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "live_outcomes",
        sa.Column("lead_id", _ID, primary_key=True),
        sa.Column("stage", sa.String(1000), primary_key=True),
        sa.Column("occurred_at", sa.DateTime, nullable=False), sa.Column("amount", sa.Float),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "score_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("lead_id", _ID, nullable=False),
        sa.Column("scored_at", sa.DateTime, nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("score", sa.Float, nullable=False), sa.Column("fit_score", sa.Float),
        sa.Column("intent_score", sa.Float), sa.Column("grade", sa.String(2)),
        sa.Column("is_mql", sa.Boolean), sa.Column("reasons", sa.JSON),
        sa.Column("feature_hash", sa.String(64)),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_index("ix_score_log_lead", "score_log", ["lead_id", "id"])
    op.create_index("ix_score_log_time", "score_log", ["scored_at"])


def downgrade() -> None:
    for name in ("score_log", "live_outcomes", "live_dispositions", "live_activities",
                 "live_leads"):
        op.drop_table(name)
