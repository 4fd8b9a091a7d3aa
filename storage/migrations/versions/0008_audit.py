"""audit: audit_entries, every admin change made from chat (who, what, when);
organizations.admin_channel, where they are posted

Revision ID: 0008
Revises: 0010
Create Date: 2026-11-30 08:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0008"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", Id, nullable=False),
        sa.Column("organization_id", Id, nullable=False),
        sa.Column("actor_id", Id, nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["members.id"], name=op.f("fk_audit_entries_actor_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_audit_entries_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(
        "ix_audit_entries_recent", "audit_entries", ["organization_id", "id"], unique=False
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("admin_channel", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("admin_channel")
    op.drop_index("ix_audit_entries_recent", table_name="audit_entries")
    op.drop_table("audit_entries")
