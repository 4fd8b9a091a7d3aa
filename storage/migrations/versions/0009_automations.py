"""automations: settings, blocklist (leads.blocked, screened_sms), automatic-text and
escalation state, report figures per conversation, weekly digest claim

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = storage.models.UTCDateTime


def ID() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("automations", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("digest_week", UTC(), nullable=True))
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notify", sa.String(length=10), nullable=False, server_default="mentions")
        )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocked", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("blocked_at", UTC(), nullable=True))
        batch_op.add_column(sa.Column("auto_texted_at", UTC(), nullable=True))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalated_at", UTC(), nullable=True))
        batch_op.add_column(sa.Column("first_inbound_at", UTC(), nullable=True))
        batch_op.add_column(sa.Column("first_response_at", UTC(), nullable=True))
        batch_op.add_column(sa.Column("first_responder_id", ID(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", UTC(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_first_responder_id_members"),
            "members",
            ["first_responder_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_conversations_created", ["organization_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_closed", ["organization_id", "closed_at"], unique=False
        )
    op.create_table(
        "screened_sms",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", ID(), nullable=False),
        sa.Column("line_id", ID(), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_screened_sms_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_screened_sms_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screened_sms")),
        sa.UniqueConstraint("provider_sid", name=op.f("uq_screened_sms_provider_sid")),
    )
    op.create_index("ix_screened_sms_lead", "screened_sms", ["lead_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_screened_sms_lead", table_name="screened_sms")
    op.drop_table("screened_sms")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_closed")
        batch_op.drop_index("ix_conversations_created")
        batch_op.drop_constraint(
            batch_op.f("fk_conversations_first_responder_id_members"), type_="foreignkey"
        )
        for column in (
            "closed_at",
            "first_responder_id",
            "first_response_at",
            "first_inbound_at",
            "escalated_at",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("leads", schema=None) as batch_op:
        for column in ("auto_texted_at", "blocked_at", "blocked"):
            batch_op.drop_column(column)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("notify")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("digest_week")
        batch_op.drop_column("automations")
