"""search: FTS5 tables over leads and messages on SQLite, GIN tsvector indexes on
PostgreSQL (storage/search.py)

Revision ID: 0007b
Revises: 0009
Create Date: 2026-11-30 07:50:00.000000
"""

from alembic import op

from storage import search

revision = "0007b"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.create(op.get_bind(), fill=True)


def downgrade() -> None:
    search.drop(op.get_bind())
