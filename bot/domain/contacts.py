"""Contacts as CSV: reading an import file into lead profiles and writing them back out.

Pure. The header row names the columns; `phone,name,email,company,notes` are the lead's
own fields, in any order and case, and any other column becomes a custom field. A bad
row is reported with its line number (as a spreadsheet shows it) and skipped: one typo
must not cost the other thousand rows. Numbers are normalized to E.164 in the
organization's region, so "(415) 555-0100" and "+1 415 555 0100" are one lead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.domain.phones import InvalidPhone, normalize_phone
from bot.types import LeadChange

__all__ = [
    "COLUMNS",
    "Contact",
    "CsvError",
    "RowError",
    "profile_problem",
    "read_contacts",
    "write_contacts",
]

COLUMNS = ("phone", "name", "email", "company", "notes")
_LIMITS = {"name": 200, "email": 200, "company": 200, "notes": 10_000}
_MAX_FIELD_NAME = 64
_MAX_FIELD_VALUE = 1_000


class CsvError(ValueError):
    """The file cannot be imported at all (no header, no phone column)."""


@dataclass(frozen=True)
class Contact:
    """One lead's profile from a row: the change it makes to the lead with that phone
    (an empty cell is None: it leaves the field as it is)."""

    line: int
    phone: str
    change: LeadChange


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def _header(row: list[str]) -> list[str]:
    names = [cell.strip().lstrip("\ufeff").strip() for cell in row]
    lowered = [n.lower() for n in names]
    if "phone" not in lowered:
        raise CsvError(
            "the first row must name the columns and one must be `phone`: "
            "phone,name,email,company,notes (other columns become custom fields)"
        )
    seen: set[str] = set()
    out = []
    for name, low in zip(names, lowered, strict=True):
        key = low if low in COLUMNS else name
        if not key:  # an unnamed column: its cells are ignored
            out.append(key)
            continue
        if key in seen:
            raise CsvError(f"the column {name!r} appears twice in the header")
        if len(key) > _MAX_FIELD_NAME:
            raise CsvError(f"the column name {name[:20]!r}… is longer than {_MAX_FIELD_NAME}")
        seen.add(key)
        out.append(key)
    return out


def _contact(line: int, header: list[str], row: list[str], region: str) -> Contact | RowError:
    if len(row) > len(header):
        extra = [c for c in row[len(header) :] if c.strip()]
        if extra:
            return RowError(line, f"{len(row)} cells but the header names {len(header)} columns")
    cells = {key: _unsafe(value.strip()) for key, value in zip(header, row, strict=False) if key}
    raw_phone = cells.get("phone", "")
    if not raw_phone:
        return RowError(line, "no phone number")
    try:
        phone = normalize_phone(raw_phone, region)
    except InvalidPhone as exc:
        return RowError(line, str(exc))
    own: dict[str, str | None] = {key: cells.get(key) or None for key in COLUMNS[1:]}
    if problem := profile_problem(own):
        return RowError(line, problem)
    custom = {k: v for k, v in cells.items() if k not in COLUMNS and v}
    for key, value in custom.items():
        if len(value) > _MAX_FIELD_VALUE:
            return RowError(line, f"{key} is longer than {_MAX_FIELD_VALUE} characters")
    return Contact(line, phone, LeadChange(fields=custom, **own))


def profile_problem(values: dict[str, str | None]) -> str | None:
    """What is wrong with a lead's name, email, company or notes (None: nothing), said so
    that a person can fix it."""
    for key, limit in _LIMITS.items():
        value = values.get(key)
        if value is not None and len(value) > limit:
            return f"{key} is longer than {limit} characters"
    name = values.get("name")
    if name is not None and any(c in name for c in "\r\n"):
        return "a name is one line"
    email = values.get("email")
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        return f"{email[:40]!r} is not an email address"
    return None


def field_lines(fields: dict[str, str]) -> str:
    """Custom fields as one `key: value` a line, sorted by key: how a form with room for
    one more box (Discord's five) shows them all."""
    return "\n".join(f"{key}: {value}" for key, value in sorted(fields.items()))


def read_field_lines(text: str) -> dict[str, str]:
    """`field_lines` read back; a blank line is skipped. Raises ValueError saying which
    line is wrong and how to write it."""
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not key:
            raise ValueError(f"line {number} ({line[:40]!r}) is not `key: value`")
        if key.lower() in COLUMNS:
            raise ValueError(f"line {number}: {key} has a box of its own, not a custom field")
        if key in fields:
            raise ValueError(f"line {number}: {key} is there twice")
        if len(key) > _MAX_FIELD_NAME or len(value) > _MAX_FIELD_VALUE:
            raise ValueError(
                f"line {number}: a name is at most {_MAX_FIELD_NAME} characters and a "
                f"value at most {_MAX_FIELD_VALUE}"
            )
        fields[key] = value
    return fields


def read_contacts(text: Iterable[str], region: str = "US") -> Iterator[Contact | RowError]:
    """Each data row of a CSV file as a Contact or a RowError, in file order.

    ``text`` yields lines (an open file). Raises CsvError when the header is unusable.
    Blank rows are skipped silently; line numbers count physical lines, so a quoted
    cell spanning lines does not shift the numbers after it."""
    reader = csv.reader(text)
    try:
        first = next(reader)
    except StopIteration:
        raise CsvError("the file is empty: the first row must name the columns") from None
    except csv.Error as exc:
        raise CsvError(f"line 1: {exc}") from None
    header = _header(first)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RowError(reader.line_num, f"not valid CSV ({exc})")
            continue
        if not any(cell.strip() for cell in row):
            continue
        yield _contact(reader.line_num, header, row, region)


def write_contacts(rows: Iterable[dict[str, object]], custom: list[str]) -> Iterator[str]:
    """CSV text, a line at a time: the header, then one line per lead. ``rows`` carry
    the COLUMNS keys and ``fields`` (a dict); ``custom`` names the custom-field columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([*COLUMNS, *custom])
    yield flush()
    for row in rows:
        fields = row.get("fields") or {}
        assert isinstance(fields, dict)
        own = [_safe(row.get(key)) for key in COLUMNS]
        writer.writerow([*own, *(_safe(fields.get(name)) for name in custom)])
        yield flush()


def _safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): such a cell, and
    one that already starts with the escaping quote, gets a leading "'"."""
    text = "" if value is None else str(value)
    if text[:1] == "'" or _formula(text):
        return "'" + text
    return text


def _unsafe(text: str) -> str:
    """Undo `_safe`, so an export imports back as it was."""
    rest = text[1:]
    return rest if text[:1] == "'" and (rest[:1] == "'" or _formula(rest)) else text


def _formula(text: str) -> bool:
    if text[:1] in ("+", "-"):
        return not _is_number(text)
    return text[:1] in ("=", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    # "+14155550100" is a phone number, not a formula: keep it as typed.
    return text[1:].replace(" ", "").isdigit()
