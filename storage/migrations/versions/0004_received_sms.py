"""received_sms: inbound webhooks stored before they are answered, applied after

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_sms",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=False),
        sa.Column("line_phone", sa.String(length=32), nullable=False),
        sa.Column("lead_phone", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", storage.models.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_sms")),
        sa.UniqueConstraint("provider_sid", name=op.f("uq_received_sms_provider_sid")),
    )
    op.create_index(
        "ix_received_sms_lane", "received_sms", ["line_phone", "lead_phone", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_received_sms_lane", table_name="received_sms")
    op.drop_table("received_sms")
