"""Snippet merge fields: `{first_name}`, `{lead_name}`, `{line_label}`, `{member_name}`.

Pure. Unknown values fall back to words that still read well ("Hi {first_name}" ->
"Hi there"); a field we do not know (`{order_id}`, a typo) stays visible as written so
the member sees it in the draft and fixes it before sending."""

from __future__ import annotations

import re
from dataclasses import dataclass

FIELDS = ("first_name", "lead_name", "line_label", "member_name")
_FIELD = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam"}


@dataclass(frozen=True)
class MergeValues:
    lead_name: str | None = None
    line_label: str | None = None
    member_name: str | None = None
    organization: str | None = None  # stands in for a line without a label


def first_name(full_name: str | None) -> str | None:
    """The first word of a name that is a name: "Dr. Jane Smith" -> "Jane". None when
    there is no such word (empty, an email address, a number)."""
    if not full_name or "@" in full_name:
        return None
    for word in full_name.replace(",", " ").split():
        bare = word.strip(".'\"()")
        if not bare or not bare[0].isalpha() or bare.lower() in _HONORIFICS:
            continue
        return bare
    return None


def values_for(values: MergeValues) -> dict[str, str]:
    lead = (values.lead_name or "").strip()
    if lead and first_name(lead) is None:
        lead = ""  # a name that is only digits or an email address reads badly
    line = (values.line_label or "").strip() or (values.organization or "").strip()
    return {
        "first_name": first_name(lead) or "there",
        "lead_name": lead or "there",
        "line_label": line or "our team",
        "member_name": (values.member_name or "").strip() or "our team",
    }


def merge_fields(text: str, values: MergeValues) -> str:
    """Fill the merge fields of `text`; unknown fields are left as written."""
    known = values_for(values)

    def fill(match: re.Match[str]) -> str:
        return known.get(match.group(1).lower(), match.group(0))

    return _FIELD.sub(fill, text)


def unknown_fields(text: str) -> list[str]:
    """Names in braces that are not merge fields, in order, once each."""
    seen: list[str] = []
    for match in _FIELD.finditer(text):
        name = match.group(1)
        if name.lower() not in FIELDS and name not in seen:
            seen.append(name)
    return seen
