"""`smsbridge contacts import/export`: leads come in from a CSV with their names, a bad
row is reported by line and skipped, a re-import updates and never duplicates, and an
export reads back as the same leads."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.config import Settings
from bot.contacts_cli import Progress
from bot.core import Core
from bot.directory_file import parse_directory
from bot.domain.contacts import read_contacts
from bot.services.contacts import ImportSummary, import_contacts
from bot.services.directory import sync_directory
from storage.db import Database
from storage.models import Delivery, Lead
from tests.conftest import free_port
from tests.e2e.test_cli import smsbridge

TOML = """
[organizations.acme]
name = "Acme Roofing"

[organizations.globex]
name = "Globex"
region = "GB"

[lines."+15005550006"]
organization = "acme"
slack_channel = "C0SALES"
"""


def environment(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "smsbridge.toml").write_text(TOML)
    return {
        **os.environ,
        "SMSBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'contacts.db'}",
        "SMSBRIDGE_CONFIG": str(tmp_path / "smsbridge.toml"),
        "SMSBRIDGE_PUBLIC_URL": f"http://127.0.0.1:{free_port()}",
    }


CSV = """phone,name,email,company,notes,plan
(415) 555-0100,Maria Lopez,maria@example.com,Lopez Roofing,prefers texts,gold
+1 415 555 0101,Bob Smith,,,,
not-a-phone,Nobody,,,,
415.555.0102,Ann Lee,ann.example.com,,,
"""


async def test_import_reports_bad_rows_by_line_and_reimport_updates_without_duplicates(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path)
    (tmp_path / "leads.csv").write_text(CSV)
    code, out = await smsbridge(
        env, "contacts", "import", str(tmp_path / "leads.csv"), "--organization", "acme"
    )
    assert code == 0, out
    assert "skipped line 4: 'not-a-phone' is not a phone number" in out
    assert "skipped line 5: 'ann.example.com' is not an email address" in out
    assert "4 rows: 2 leads added, 0 updated, 0 unchanged, 2 skipped" in out

    (tmp_path / "again.csv").write_text("phone,name\n4155550101,Robert Smith\n")
    code, out = await smsbridge(
        env, "contacts", "import", str(tmp_path / "again.csv"), "--organization", "acme"
    )
    assert "1 row: 0 leads added, 1 updated" in out, out

    code, exported = await smsbridge(env, "contacts", "export", "--organization", "acme")
    assert code == 0
    lines = exported.strip().splitlines()
    assert lines[0] == "phone,name,email,company,notes,plan"
    assert lines[1] == "+14155550100,Maria Lopez,maria@example.com,Lopez Roofing,prefers texts,gold"
    assert lines[2].startswith("+14155550101,Robert Smith,")
    assert len(lines) == 3

    # The export imports back as the same leads: nothing added, nothing changed.
    (tmp_path / "export.csv").write_text(exported)
    code, out = await smsbridge(
        env, "contacts", "import", str(tmp_path / "export.csv"), "--organization", "acme"
    )
    assert "2 rows: 0 leads added, 0 updated, 2 unchanged, 0 skipped" in out, out


async def test_several_organizations_need_one_named(tmp_path: Path) -> None:
    env = environment(tmp_path)
    code, out = await smsbridge(env, "contacts", "export")
    assert code == 1 and "--organization" in out and "acme, globex" in out
    code, out = await smsbridge(env, "contacts", "export", "--organization", "initech")
    assert code == 1 and "no organization 'initech'" in out


def test_the_progress_bar_draws_on_a_terminal_only() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term, pipe = Terminal(), io.StringIO()
    for stream in (term, pipe):
        bar = Progress(1000, stream)
        bar(ImportSummary(added=250, updated=250))
        bar.close()
    assert "[###############...............] 500/1000 rows" in term.getvalue()
    assert pipe.getvalue() == ""


US = ["4155550100", "2125550123", "3125550199", "6175550111"]


def formatted(digits: str, style: int) -> str:
    number = phonenumbers.parse(digits, "US")
    shapes = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
        f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}",
        f"tel:+1{digits}",
        f" ({digits[:3]}){digits[3:]} ",
    ]
    return shapes[style % len(shapes)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(US), st.integers(0, 6), st.text("abc ", max_size=5)),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 3),
)
def test_an_import_never_duplicates_a_lead_whatever_the_numbers_formatting(
    tmp_path_factory: object, rows: list[tuple[str, int, str]], batch: int
) -> None:
    async def scenario() -> tuple[int, int]:
        path = tmp_path_factory.mktemp("prop") / "p.db"  # type: ignore[attr-defined]
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.create_all()
        core = Core(db, Settings(database_url=db.url))
        await sync_directory(core, parse_directory({"organizations": {"acme": {}}}))
        text = "phone,name\n" + "".join(f'"{formatted(d, s)}",{n}\n' for d, s, n in rows)
        import bot.services.contacts as service

        service.BATCH, old = batch, service.BATCH
        try:
            for _ in range(2):  # a re-import too
                await import_contacts(core, 1, read_contacts(io.StringIO(text)))
        finally:
            service.BATCH = old
        async with db.session() as session:
            count = await session.scalar(select(func.count()).select_from(Lead))
            headers = await session.scalar(select(func.count()).select_from(Delivery))
        await db.dispose()
        return count or 0, headers or 0

    leads, deliveries = asyncio.run(scenario())
    assert leads == len({d for d, _, _ in rows})
    assert deliveries == 0  # no conversation, nothing to refresh in chat
