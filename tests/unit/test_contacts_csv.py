"""Reading and writing contacts CSV: columns, custom fields, bad rows with their line
numbers, numbers in the organization's region, and cells a spreadsheet will not run."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.contacts import (
    Contact,
    CsvError,
    RowError,
    field_lines,
    read_contacts,
    read_field_lines,
    write_contacts,
)
from bot.types import LeadChange


def read(text: str, region: str = "US") -> list[Contact | RowError]:
    return list(read_contacts(io.StringIO(text), region))


def test_columns_in_any_order_and_case_and_others_become_custom_fields() -> None:
    (row,) = read("Name,PHONE,Email,plan\nMaria Lopez,(415) 555-0100,maria@example.com,gold\n")
    assert row == Contact(
        2,
        "+14155550100",
        LeadChange(name="Maria Lopez", email="maria@example.com", fields={"plan": "gold"}),
    )


def test_a_bad_row_is_reported_with_its_line_and_the_rest_are_read() -> None:
    rows = read("phone,name\n+14155550100,Maria\nnot a phone,Bob\n\n+14155550101,Ann\n,No Phone\n")
    assert [r.line for r in rows] == [2, 3, 5, 6]
    assert isinstance(rows[1], RowError) and "not a phone number" in str(rows[1])
    assert str(rows[3]) == "line 6: no phone number"
    assert isinstance(rows[2], Contact) and rows[2].change.name == "Ann"


def test_a_quoted_cell_over_two_lines_does_not_shift_later_line_numbers() -> None:
    rows = read('phone,notes\n+14155550100,"called twice\nno answer"\nbad,x\n')
    assert rows[0].change.notes == "called twice\nno answer"  # type: ignore[union-attr]
    assert rows[1].line == 4


def test_numbers_without_plus_are_read_in_the_organizations_region() -> None:
    (row,) = read("phone\n07911 123456\n", region="GB")
    assert isinstance(row, Contact) and row.phone == "+447911123456"


def test_a_bad_email_skips_the_row() -> None:
    (row,) = read("phone,email\n+14155550100,maria at example\n")
    assert isinstance(row, RowError) and "email" in row.reason


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("name,email\nMaria,m@x.com\n", "`phone`"),
        ("phone,Phone\n", "twice"),
    ],
)
def test_an_unusable_header_stops_the_import_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(CsvError, match=says):
        read(text)


def test_a_byte_order_mark_before_the_header_is_ignored() -> None:
    (row,) = read("\ufeffphone,name\n+14155550100,Maria\n")
    assert isinstance(row, Contact) and row.change.name == "Maria"


def test_an_export_never_hands_a_spreadsheet_a_formula_and_reads_back_the_same() -> None:
    rows = [{"phone": "+14155550100", "name": "=HYPERLINK(1)", "notes": "-5 off", "fields": {}}]
    text = "".join(write_contacts(rows, []))
    assert "'=HYPERLINK(1)" in text and "+14155550100" in text
    (row,) = read(text)
    assert isinstance(row, Contact)
    assert (row.change.name, row.change.notes) == ("=HYPERLINK(1)", "-5 off")


cell = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(str.strip)


@given(
    name=cell | st.sampled_from(["'=x", "'", "''", "-5", "'-5", "+1 (2)"]),
    company=cell,
    notes=cell,
    plan=cell,
)
def test_what_is_exported_imports_back_unchanged(
    name: str, company: str, notes: str, plan: str
) -> None:
    lead = {"phone": "+14155550100", "name": name, "company": company, "notes": notes}
    text = "".join(write_contacts([{**lead, "fields": {"plan": plan}}], ["plan"]))
    (row,) = read(text)
    assert isinstance(row, Contact)
    assert (row.change.name or "", row.change.company or "", row.change.notes or "") == (
        name,
        company,
        notes,
    )
    assert row.change.fields.get("plan", "") == plan


ONE_LINE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
FIELD_KEY = (
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=":"),
            min_size=1, max_size=20)
    .map(str.strip)
    .filter(lambda k: k and k.lower() not in ("phone", "name", "email", "company", "notes"))
)  # fmt: skip
FIELD_VALUE = st.text(ONE_LINE, max_size=40).map(str.strip)


@given(st.dictionaries(FIELD_KEY, FIELD_VALUE, max_size=6))
def test_custom_fields_written_one_a_line_read_back_the_same(fields: dict[str, str]) -> None:
    assert read_field_lines(field_lines(fields)) == fields


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("source web", "line 1 ('source web') is not `key: value`"),
        ("source: web\n: x", "line 2"),
        ("Email: a@b.c", "has a box of its own"),
        ("a: 1\na: 2", "a is there twice"),
    ],
)
def test_a_custom_field_line_that_cannot_be_read_says_which_and_how(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        read_field_lines(text)


def test_blank_lines_between_custom_fields_are_skipped() -> None:
    assert read_field_lines("source: web\n\n  \nbudget: 5k ") == {"source": "web", "budget": "5k"}
