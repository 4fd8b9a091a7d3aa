"""lead profile: leads.company, leads.notes; organizations.region, quiet_hours_zone,
gsm_smart_quotes

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30 07:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("region", sa.String(length=2), nullable=False, server_default="US")
        )
        batch_op.add_column(
            sa.Column(
                "quiet_hours_zone",
                sa.String(length=12),
                nullable=False,
                server_default="organization",
            )
        )
        batch_op.add_column(
            sa.Column("gsm_smart_quotes", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("gsm_smart_quotes")
        batch_op.drop_column("quiet_hours_zone")
        batch_op.drop_column("region")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("notes")
        batch_op.drop_column("company")
