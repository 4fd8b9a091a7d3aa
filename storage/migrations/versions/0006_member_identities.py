"""platform-neutral identities: member_identities replaces members.slack_user and
members.discord_user; members and routes record whether the TOML owns them

Every member and route that exists before this revision came from the TOML (the only
way to make one), so they are marked as the file's.

Revision ID: 0006
Revises: 0007b
Create Date: 2026-11-30 07:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0006"
down_revision = "0007b"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The per-platform columns this revision folds into member_identities.
OLD_COLUMNS = {"slack": "slack_user", "discord": "discord_user"}


def upgrade() -> None:
    op.create_table(
        "member_identities",
        sa.Column("id", Id, nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("organization_id", Id, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_identities_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_member_identities_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_identities")),
        sa.UniqueConstraint("member_id", "platform", name=op.f("uq_member_identities_member_id")),
        sa.UniqueConstraint(
            "organization_id",
            "platform",
            "user_id",
            name=op.f("uq_member_identities_organization_id"),
        ),
    )
    op.create_index(
        "ix_member_identities_user", "member_identities", ["platform", "user_id"], unique=False
    )

    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, organization_id, slack_user, discord_user FROM members ORDER BY id")
    ).all()
    identities = sa.table(
        "member_identities",
        sa.column("member_id", sa.Integer),
        sa.column("organization_id", sa.Integer),
        sa.column("platform", sa.String),
        sa.column("user_id", sa.String),
    )
    seen: set[tuple[int, str, str]] = set()
    carried = []
    for member_id, organization_id, *users in rows:
        for platform, user_id in zip(OLD_COLUMNS, users, strict=True):
            # Two members of one organization with the same account: the older keeps it.
            if user_id and (organization_id, platform, user_id) not in seen:
                seen.add((organization_id, platform, user_id))
                carried.append(
                    {
                        "member_id": member_id,
                        "organization_id": organization_id,
                        "platform": platform,
                        "user_id": user_id,
                    }
                )
    if carried:
        op.bulk_insert(identities, carried)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_slack_user"))
        batch_op.drop_index(batch_op.f("ix_members_discord_user"))
        batch_op.drop_column("slack_user")
        batch_op.drop_column("discord_user")
        batch_op.add_column(
            sa.Column("from_file", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("removed_at", storage.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("from_file", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    for table in ("members", "routes"):
        op.execute(
            sa.table(table, sa.column("from_file", sa.Boolean)).update().values(from_file=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.drop_column("from_file")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("removed_at")
        batch_op.drop_column("from_file")
        for column in OLD_COLUMNS.values():
            batch_op.add_column(sa.Column(column, sa.String(length=32), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_members_{column}"), [column], unique=False)
    for platform, column in OLD_COLUMNS.items():
        op.execute(
            sa.text(
                f"UPDATE members SET {column} = (SELECT user_id FROM member_identities i "
                "WHERE i.member_id = members.id AND i.platform = :platform)"
            ).bindparams(platform=platform)
        )
    op.drop_index("ix_member_identities_user", table_name="member_identities")
    op.drop_table("member_identities")
