"""Full-text search over leads (name, email, company, phone digits) and the words of
messages: SQLite FTS5 tables kept by triggers, PostgreSQL GIN indexes on tsvector
expressions. Neither fits the models (virtual tables, expression indexes), so the DDL
lives here, run by migration 0007b and by `Database.create_all` (tests, demo).

Leads use FTS5's trigram tokenizer on SQLite (any 3+ character piece of a name, email or
number matches); PostgreSQL indexes words ('simple' configuration: no stemming, any
language) and matches them by prefix, plus the number's last 10, 7 and 4 digits.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

FTS_TABLES = ("leads_fts", "messages_fts")
PG_INDEXES = ("ix_leads_search", "ix_messages_search")
MAX_WORDS = 8
MIN_PIECE = 3  # trigram: shorter pieces match nothing

_LEAD_COLUMNS = ("name", "email", "company", "phone")
_SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS leads_fts USING fts5(name, email, company, phone, "
    "content='leads', content_rowid='id', tokenize='trigram')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(body, content='messages', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
]


def _triggers(table: str, columns: tuple[str, ...]) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    fts = f"{table}_fts"
    insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {cols} ON {table} "
        f"BEGIN {delete} {insert} END",
    ]


SQLITE_DDL = [
    *_SQLITE_DDL,
    *_triggers("leads", _LEAD_COLUMNS),
    *_triggers("messages", ("body",)),
]
SQLITE_FILL = [
    "INSERT INTO leads_fts(rowid, name, email, company, phone) "
    "SELECT id, name, email, company, phone FROM leads",
    "INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages",
]
SQLITE_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_fts_{op}"
        for t in ("leads", "messages")
        for op in ("insert", "delete", "update")
    ),
    *(f"DROP TABLE IF EXISTS {t}" for t in FTS_TABLES),
]

# The same expressions in the indexes and the queries, or PostgreSQL will not use them.
PG_LEAD_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || coalesce(email, '') "
    "|| ' ' || coalesce(company, '') || ' ' || substr(phone, 2) || ' ' || right(phone, 10) "
    "|| ' ' || right(phone, 7) || ' ' || right(phone, 4))"
)
PG_MESSAGE_DOCUMENT = "to_tsvector('simple'::regconfig, body)"
# Newest first, but not read in primary-key order: given `ORDER BY id DESC LIMIT n`
# PostgreSQL walks the key backwards computing every row's tsvector until n match, which
# for a rare word is the whole table (5.4 s at 1,000,000 messages). `id + 0` leaves it the
# GIN index and a top-n sort: 14 ms for a rare word, 130 ms for one in a fifth of them.
NOT_BY_KEY_ORDER = "{} + 0 DESC"
PG_DDL = [
    f"CREATE INDEX IF NOT EXISTS ix_leads_search ON leads USING gin ({PG_LEAD_DOCUMENT})",
    f"CREATE INDEX IF NOT EXISTS ix_messages_search ON messages USING gin ({PG_MESSAGE_DOCUMENT})",
]
PG_DROP = [f"DROP INDEX IF EXISTS {name}" for name in PG_INDEXES]


def create(conn: Connection, *, fill: bool) -> None:
    """Create the search tables or indexes; `fill`: index the rows already there."""
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_DDL + (SQLITE_FILL if fill else []):
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        for statement in PG_DDL:
            conn.exec_driver_sql(statement)


def drop(conn: Connection) -> None:
    statements = SQLITE_DROP if conn.dialect.name == "sqlite" else PG_DROP
    for statement in statements:
        conn.exec_driver_sql(statement)


def search_objects(name: str | None, type_: str, _parent: Any) -> bool:
    """Alembic `include_name`: leave the search tables and indexes out of comparisons
    with the models (they are not models)."""
    if type_ == "table" and name is not None:
        return not name.startswith(FTS_TABLES)
    if type_ == "index":
        return name not in PG_INDEXES
    return True


def words(query: str) -> list[str]:
    """The words of a search, lower-case, at most MAX_WORDS."""
    return re.findall(r"\w+", query.lower())[:MAX_WORDS]


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _dialect(session: AsyncSession) -> str:
    bind = session.bind
    assert bind is not None
    return bind.dialect.name


async def lead_ids(
    session: AsyncSession, organization_id: int, query: str, *, limit: int
) -> list[int]:
    """Leads of the organization whose name, email, company or number contain every
    word of `query` (pieces of 3+ characters), newest lead first."""
    pieces = [w for w in words(query) if len(w) >= MIN_PIECE]
    if not pieces:
        return []
    if _dialect(session) == "sqlite":
        sql = (
            "SELECT leads.id FROM leads_fts JOIN leads ON leads.id = leads_fts.rowid "
            "WHERE leads_fts MATCH :match AND leads.organization_id = :org "
            "ORDER BY leads_fts.rowid DESC LIMIT :limit"
        )
        match = " ".join(_fts_phrase(p) for p in pieces)
    else:
        sql = (
            f"SELECT id FROM leads WHERE {PG_LEAD_DOCUMENT} @@ to_tsquery('simple', :match) "
            f"AND organization_id = :org ORDER BY {NOT_BY_KEY_ORDER.format('id')} LIMIT :limit"
        )
        match = " & ".join(f"{p}:*" for p in pieces)
    rows = await session.execute(
        text(sql), {"match": match, "org": organization_id, "limit": limit}
    )
    return [row[0] for row in rows]


async def message_hits(
    session: AsyncSession, organization_id: int, query: str, *, limit: int
) -> list[tuple[int, int]]:
    """(conversation id, message id) of the newest SMS and notes of the organization
    holding every word of `query` (the last one as a prefix: search as you type), one
    per conversation, newest first."""
    found = words(query)
    if not found:
        return []
    if _dialect(session) == "sqlite":
        match = " ".join(_fts_phrase(w) for w in found) + " *"
        sql = (
            "SELECT messages.conversation_id, messages.id FROM messages_fts "
            "JOIN messages ON messages.id = messages_fts.rowid "
            "JOIN conversations ON conversations.id = messages.conversation_id "
            "WHERE messages_fts MATCH :match AND conversations.organization_id = :org "
            "AND messages.kind != 'event' ORDER BY messages_fts.rowid DESC LIMIT :limit"
        )
    else:
        match = " & ".join([*found[:-1], f"{found[-1]}:*"])
        sql = (
            "SELECT messages.conversation_id, messages.id FROM messages "
            "JOIN conversations ON conversations.id = messages.conversation_id "
            f"WHERE {PG_MESSAGE_DOCUMENT} @@ to_tsquery('simple', :match) "
            "AND conversations.organization_id = :org AND messages.kind != 'event' "
            f"ORDER BY {NOT_BY_KEY_ORDER.format('messages.id')} LIMIT :limit"
        )
    rows = await session.execute(
        text(sql), {"match": match, "org": organization_id, "limit": limit * 5}
    )
    hits: dict[int, int] = {}
    for conversation_id, message_id in rows:
        hits.setdefault(conversation_id, message_id)
    return list(hits.items())[:limit]
