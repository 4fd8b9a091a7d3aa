"""inbox indexes: recency per organization, and a covering index for inbox counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 16:20:00.000000
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_recent", ["organization_id", "last_message_at"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_counts",
            ["organization_id", "status", "assignee_id", "unread_count", "needs_response"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_counts")
        batch_op.drop_index("ix_conversations_recent")
