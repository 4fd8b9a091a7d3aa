"""Bulk-load a large, realistic database with SQL (INSERT … SELECT over a number
sequence), not through the API: organizations with one line and two members each,
one lead, conversation and Slack thread per conversation, `messages_per` messages per
conversation, each with its finished chat delivery.

Shape: the first organization ("acme", the one the benchmarks query) holds 40% of the
conversations, the other 59 share the rest; 30% of conversations are open, a seventh
unread, a quarter need a response, two thirds are assigned."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.models import Organization

ORGS = 60
MEMBERS_PER_ORG = 2
BENCH_ORG = "acme"
BENCH_LINE = "+15005550006"


@dataclass(frozen=True)
class Loaded:
    organization_id: int  # the bench organization
    member_id: int  # a member of it, for the `mine` filter
    conversations: int
    messages: int


class _Sql:
    """The few expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def seq(self, count: int) -> tuple[str, str]:
        """(prefix, FROM clause) producing n = 0 .. count-1."""
        if self.pg:
            return "", f"generate_series(0, {count - 1}) AS seq(n)"
        return (
            f"WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq "
            f"WHERE n + 1 < {count}) ",
            "seq",
        )

    def digits(self, expr: str, width: int) -> str:
        if self.pg:
            return f"lpad(({expr})::text, {width}, '0')"
        return f"printf('%0{width}d', {expr})"

    def ts(self, seconds: str) -> str:
        if self.pg:
            return f"(timestamp '2026-01-01 00:00:00' + ({seconds}) * interval '1 second')"
        return f"datetime('2026-01-01 00:00:00', ({seconds}) || ' seconds')"

    def boolean(self, expr: str) -> str:
        return f"({expr})" if self.pg else f"(CASE WHEN {expr} THEN 1 ELSE 0 END)"

    def json(self, literal: str) -> str:
        return f"'{literal}'::json" if self.pg else f"'{literal}'"

    def nullif_zero(self, expr: str, null_when: str) -> str:
        return f"(CASE WHEN {null_when} THEN NULL ELSE {expr} END)"


def lead_phone_of(n: int) -> str:
    """The phone of the n-th bulk lead (a valid NANP number), as the SQL below makes it."""
    return f"+1415{200 + n // 10000}{n % 10000:04d}"


async def _max_id(conn: AsyncConnection, table: str) -> int:
    return int((await conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))).scalar())


async def load(db: Database, conversations: int, messages_per: int) -> Loaded:
    """Append the dataset to a migrated database (the bench organization may already
    exist from the directory; it is created otherwise)."""
    async with db.engine.begin() as conn:
        sql = _Sql(conn.dialect.name)
        await _load(conn, sql, conversations, messages_per)
    # As a database that has been running looks: statistics gathered (and on PostgreSQL
    # the visibility map set, as autovacuum would), so the planner sees the real shape.
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE" if sql.pg else "ANALYZE"))
    async with db.session() as s:
        org_id = await s.scalar(select(Organization.id).where(Organization.key == BENCH_ORG))
        member = await s.scalar(
            text("SELECT MIN(id) FROM members WHERE organization_id = :o"), {"o": org_id}
        )
        count = await s.scalar(select(func.count()).select_from(text("conversations")))
    assert org_id is not None and member is not None
    return Loaded(org_id, member, count or 0, conversations * messages_per)


async def _load(conn: AsyncConnection, sql: _Sql, conversations: int, messages_per: int) -> None:
    async def run(statement: str) -> None:
        await conn.execute(text(statement))

    org0 = await conn.scalar(text("SELECT id FROM organizations WHERE key = :k"), {"k": BENCH_ORG})
    o = await _max_id(conn, "organizations")
    with_, seq = sql.seq(ORGS)
    # Organization k (0 .. ORGS-1) has id o + 1 + k; k = 0 is the bench organization.
    await run(
        f"{with_}INSERT INTO organizations (id, key, name, timezone, quiet_mode, help_text, voice) "
        f"SELECT {o + 1} + n, 'bulk' || n, 'Bulk ' || n, 'UTC', 'hold', '', {sql.json('{}')} "
        f"FROM {seq}" + (" WHERE n > 0" if org0 else "")
    )
    if org0 is None:
        await run(f"UPDATE organizations SET key = '{BENCH_ORG}' WHERE id = {o + 1}")
        org0 = o + 1

    def org(k: str) -> str:
        return f"(CASE WHEN {k} = 0 THEN {org0} ELSE {o + 1} + {k} END)"

    line0 = await conn.scalar(text("SELECT id FROM lines WHERE phone = :p"), {"p": BENCH_LINE})
    li = await _max_id(conn, "lines")
    with_, seq = sql.seq(ORGS)
    await run(
        f"{with_}INSERT INTO lines (id, organization_id, phone, label) "
        f"SELECT {li + 1} + n, {org('n')}, CASE WHEN n = 0 THEN '{BENCH_LINE}' "
        f"ELSE '+1500777' || {sql.digits('n', 4)} END, 'Line ' || n "
        f"FROM {seq}" + (" WHERE n > 0" if line0 else "")
    )
    line = f"(CASE WHEN k = 0 THEN {line0 or li + 1} ELSE {li + 1} + k END)"

    mb = await _max_id(conn, "members")
    with_, seq = sql.seq(ORGS * MEMBERS_PER_ORG)
    await run(
        f"{with_}INSERT INTO members (id, organization_id, key, name, role) "
        f"SELECT {mb + 1} + n, {org(f'(n / {MEMBERS_PER_ORG})')}, "
        f"'bulk' || n, 'Member ' || n, 'agent' FROM {seq}"
    )
    route = await _max_id(conn, "routes")
    with_, seq = sql.seq(ORGS)
    await run(
        f"{with_}INSERT INTO routes (id, line_id, platform, channel, reply_mode) "
        f"SELECT {route + 1} + n, {li + 1} + n, 'slack', 'CBULK' || n, 'direct' FROM {seq} "
        f"WHERE n > 0"
    )

    def lead_phone(n: str) -> str:  # as lead_phone_of; exchanges 200-299: 1,000,000 leads
        return f"'+1415' || (200 + {n} / 10000) || {sql.digits(f'{n} % 10000', 4)}"

    # Conversation n belongs to organization k: 40% to k = 0, the rest spread.
    k = f"(CASE WHEN n % 10 < 4 THEN 0 ELSE 1 + n % {ORGS - 1} END)"
    c = await _max_id(conn, "conversations")
    ld = await _max_id(conn, "leads")
    with_, seq = sql.seq(conversations)
    body = f"FROM (SELECT n, {k} AS k FROM {seq}) AS s"
    await run(
        f"{with_}INSERT INTO leads (id, organization_id, phone, name, fields, opted_out, "
        f"created_at) SELECT {ld + 1} + n, {org('k')}, {lead_phone('n')}, "
        f"'Lead ' || n, {sql.json('{}')}, {sql.boolean('n % 97 = 0')}, {sql.ts('n')} {body}"
    )
    when = "(n * 37) % 31536000"
    assignee = sql.nullif_zero(f"{mb + 1} + k * {MEMBERS_PER_ORG} + n % 2", "n % 3 = 0")
    with_, seq = sql.seq(conversations)
    # Report figures: a first reply 0-179 min after the first text (none for a fifth),
    # by one of the organization's two members; closed ones closed at their last message.
    started = f"{when} - 86400"
    answered = "n % 5 <> 0"
    responder = sql.nullif_zero(f"{mb + 1} + k * {MEMBERS_PER_ORG} + n % 2", f"NOT ({answered})")
    await run(
        f"{with_}INSERT INTO conversations (id, organization_id, line_id, lead_id, status, "
        f"assignee_id, tags, unread_count, needs_response, has_inbound, last_message_at, "
        f"created_at, first_inbound_at, first_response_at, first_responder_id, closed_at) "
        f"SELECT {c + 1} + n, {org('k')}, {line}, {ld + 1} + n, "
        f"CASE WHEN n % 10 < 3 THEN 'open' ELSE 'closed' END, {assignee}, {sql.json('[]')}, "
        f"CASE WHEN n % 7 = 0 THEN 1 + n % 3 ELSE 0 END, {sql.boolean('n % 4 = 0')}, "
        f"{sql.boolean('1 = 1')}, {sql.ts(when)}, {sql.ts(started)}, {sql.ts(started)}, "
        f"CASE WHEN {answered} THEN {sql.ts(f'{started} + (n % 180) * 60')} END, "
        f"{responder}, CASE WHEN n % 10 >= 3 THEN {sql.ts(when)} END {body}"
    )
    t = await _max_id(conn, "threads")
    with_, seq = sql.seq(conversations)
    await run(
        f"{with_}INSERT INTO threads (id, conversation_id, platform, workspace, channel, "
        f"thread_id, header_message_id, active, created_at) SELECT {t + 1} + n, {c + 1} + n, "
        f"'slack', 'T0BULK', CASE WHEN k = 0 THEN 'C0SALES' ELSE 'CBULK' || k END, "
        f"'1700000000.' || {sql.digits('n', 6)}, '1700000000.' || {sql.digits('n', 6)}, "
        f"{sql.boolean('1 = 1')}, {sql.ts('n')} {body}"
    )

    m = await _max_id(conn, "messages")
    d = await _max_id(conn, "deliveries")
    total = conversations * messages_per
    conv = f"(n / {messages_per})"
    inbound = f"n % {messages_per} % 2 = 0"
    at = sql.ts(f"({conv} * 37) % 31536000 - ({messages_per} - n % {messages_per}) * 60")
    with_, seq = sql.seq(total)
    await run(
        f"{with_}INSERT INTO messages (id, conversation_id, kind, direction, body, status, "
        f"provider_sid, source, segments, encoding, ai_assisted, created_at) "
        f"SELECT {m + 1} + n, {c + 1} + {conv}, 'sms', "
        f"CASE WHEN {inbound} THEN 'in' ELSE 'out' END, "
        f"'Bulk message ' || n || ': is Tuesday at 9 still good for the estimate?', "
        f"CASE WHEN {inbound} THEN 'received' ELSE 'delivered' END, "
        f"'SMBULK' || {sql.digits('n', 10)}, 'sms', 1, 'GSM-7', {sql.boolean('1 = 0')}, {at} "
        f"FROM {seq}"
    )
    # Mostly done; some canceled (opt-outs, undo), a few failed or of unknown outcome.
    outcome = (
        "CASE WHEN n % 100 = 1 THEN 'canceled' WHEN n % 1000 = 2 THEN 'failed' "
        "WHEN n % 2000 = 3 THEN 'unknown' ELSE 'done' END"
    )
    with_, seq = sql.seq(total)
    await run(
        f"{with_}INSERT INTO deliveries (id, kind, lane, conversation_id, message_id, payload, "
        f"status, attempts, run_at, created_at, finished_at) "
        f"SELECT {d + 1} + n, 'chat.message', 'slack', {c + 1} + {conv}, {m + 1} + n, "
        f"{sql.json('{}')}, {outcome}, 1, {at}, {at}, {at} FROM {seq}"
    )
    # Each message has its copy in its Slack thread, as a mirrored conversation does.
    p = await _max_id(conn, "chat_posts")
    with_, seq = sql.seq(total)
    await run(
        f"{with_}INSERT INTO chat_posts (id, message_id, platform, channel, post_id, authored) "
        f"SELECT {p + 1} + n, {m + 1} + n, 'slack', 'CBULK', "
        f"'1700000001.' || {sql.digits('n', 7)}, {sql.boolean('1 = 0')} FROM {seq}"
    )
    if sql.pg:  # explicit ids were given: move the sequences past them
        for table in ("organizations", "lines", "members", "routes", "leads", "conversations",
                      "threads", "messages", "deliveries", "chat_posts"):  # fmt: skip
            await run(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
