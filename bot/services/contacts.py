"""Contacts import and export for one organization (`smsbridge contacts`, `/sms contacts
export`). Rows are written in batches, each its own transaction: a re-import updates the
lead with the same (normalized) number, never adds a second one, and an interrupted
import can simply be run again."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.contacts import Contact, RowError, write_contacts
from bot.services.access import check
from bot.services.leads import apply_change, update_profile
from bot.types import ContactsFile
from storage.models import Lead, Member, Organization

BATCH = 500


class UnknownOrganization(LookupError):
    """The organization asked for does not exist (or none was named among several)."""


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.skipped)

    def describe(self) -> str:
        rows = "row" if self.rows == 1 else "rows"
        leads = "lead" if self.added == 1 else "leads"
        return (
            f"{self.rows} {rows}: {self.added} {leads} added, {self.updated} updated,"
            f" {self.unchanged} unchanged, {len(self.skipped)} skipped"
        )


async def organization(session: AsyncSession, key: str | None) -> Organization:
    """The organization named `key`, or the only one there is."""
    if key is not None:
        org = await session.scalar(select(Organization).where(Organization.key == key))
        if org is None:
            keys = ", ".join(await _keys(session)) or "none configured"
            raise UnknownOrganization(f"no organization {key!r} (there is: {keys})")
        return org
    orgs = list(await session.scalars(select(Organization).limit(2)))
    if len(orgs) == 1:
        return orgs[0]
    if not orgs:
        raise UnknownOrganization("no organization is configured (see smsbridge check)")
    keys = ", ".join(await _keys(session))
    raise UnknownOrganization(f"several organizations: name one with --organization ({keys})")


async def _keys(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Organization.key).order_by(Organization.key)))


async def organization_region(core: Core, key: str | None) -> tuple[int, str]:
    """(id, phone region) of the organization contacts are imported into."""

    async def work(session: AsyncSession) -> tuple[int, str]:
        org = await organization(session, key)
        return org.id, org.region

    return await core.run(work)


async def import_contacts(
    core: Core,
    organization_id: int,
    rows: Iterable[Contact | RowError],
    *,
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Add or update a lead per good row; bad rows are counted in `skipped`."""
    summary = ImportSummary()
    batch: list[Contact] = []
    for row in rows:
        if isinstance(row, RowError):
            summary.skipped.append(row)
            continue
        batch.append(row)
        if len(batch) >= BATCH:
            await _write(core, organization_id, batch, summary)
            batch = []
            if progress:
                progress(summary)
    if batch:
        await _write(core, organization_id, batch, summary)
    if progress:
        progress(summary)
    return summary


async def _write(
    core: Core, organization_id: int, batch: list[Contact], summary: ImportSummary
) -> None:
    counts = {"added": 0, "updated": 0, "unchanged": 0}

    async def work(session: AsyncSession) -> None:
        counts.update(added=0, updated=0, unchanged=0)  # a retried batch counts once
        phones = {c.phone for c in batch}
        known = {
            lead.phone: lead
            for lead in await session.scalars(
                select(Lead).where(Lead.organization_id == organization_id, Lead.phone.in_(phones))
            )
        }
        for contact in batch:
            lead = known.get(contact.phone)
            if lead is None:
                lead = Lead(organization_id=organization_id, phone=contact.phone, fields={})
                session.add(lead)
                known[contact.phone] = lead
                apply_change(lead, contact.change)  # new: no conversation to tell
                counts["added"] += 1
            elif await update_profile(core, session, lead, contact.change):
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1

    await core.run(work)
    summary.added += counts["added"]
    summary.updated += counts["updated"]
    summary.unchanged += counts["unchanged"]


async def export_contacts(core: Core, organization_id: int) -> list[str]:
    """The organization's leads as CSV lines (header first), ordered by phone."""
    return await core.run(lambda session: contacts_csv(session, organization_id))


async def contacts_csv(session: AsyncSession, organization_id: int) -> list[str]:
    leads = list(
        await session.scalars(
            select(Lead).where(Lead.organization_id == organization_id).order_by(Lead.phone)
        )
    )
    custom = sorted({key for lead in leads for key in (lead.fields or {})})
    return list(write_contacts(_rows(leads), custom))


async def contacts_file(session: AsyncSession, member: Member, now: datetime) -> ContactsFile:
    """`/sms contacts export`: the member's organization's leads as a CSV file."""
    check(member, "contacts")
    org = await session.get(Organization, member.organization_id)
    assert org is not None
    lines = await contacts_csv(session, org.id)
    return ContactsFile(
        f"{org.key}-contacts-{now:%Y-%m-%d}.csv", "".join(lines).encode(), len(lines) - 1
    )


def _rows(leads: list[Lead]) -> Iterator[dict[str, object]]:
    for lead in leads:
        yield {
            "phone": lead.phone,
            "name": lead.name,
            "email": lead.email,
            "company": lead.company,
            "notes": lead.notes,
            "fields": lead.fields or {},
        }
