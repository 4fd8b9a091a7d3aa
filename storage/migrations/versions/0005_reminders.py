"""reminders: organizations.remind_after_minutes, conversations.reminded_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 20:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("remind_after_minutes", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", storage.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("remind_after_minutes")
