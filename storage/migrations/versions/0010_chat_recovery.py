"""chat recovery: thread_openings (a header card being posted), received_chat_events
(teammates' messages kept from before the acknowledgement until handled)

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-30 08:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "thread_openings",
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("started_at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_thread_openings_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", "platform", name=op.f("pk_thread_openings")),
    )
    op.create_table(
        "received_chat_events",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "key", name=op.f("pk_received_chat_events")),
    )


def downgrade() -> None:
    op.drop_table("received_chat_events")
    op.drop_table("thread_openings")
