"""Tell an internal note from an SMS reply in text typed into a mirrored thread.

Sending a note to a lead by mistake is the worst thing this product can do, so the rules
are few and visible: a note prefix always makes a note, and in "explicit" reply mode
nothing is sent unless it starts with ">".

Callers pass plain text: bridges unescape platform markup first (Slack sends ">" as
"&gt;").
"""

from __future__ import annotations

__all__ = ["NOTE_PREFIXES", "REPLY_MODES", "classify_thread_text", "split_note"]

NOTE_PREFIXES = ("note:", "//", ";;")
REPLY_MODES = ("direct", "explicit")


def split_note(text: str) -> tuple[bool, str]:
    """(True, text after the prefix, stripped) for a note, else (False, text unchanged).

    Prefixes match case-insensitively after leading whitespace: "Note: call back",
    "  // hi", ";;x", "NOTE:x".
    """
    body = text.lstrip()
    for prefix in NOTE_PREFIXES:
        # Compare the slice, not body.lower(): lowering can change string length.
        if body[: len(prefix)].lower() == prefix:
            return True, body[len(prefix) :].strip()
    return False, text


def classify_thread_text(text: str, reply_mode: str) -> tuple[str, str]:
    """Decide what a human message in a thread is: ("note" | "reply" | "empty", body).

    reply_mode "direct": note prefixes make notes, everything else is an SMS reply.
    reply_mode "explicit": only text starting with ">" is a reply (the ">" and the
    space after it are dropped); everything else is a note.
    Bodies are stripped of surrounding whitespace; a message with nothing left (e.g.
    "note:" alone or "> ") is "empty" so callers can ignore it.
    """
    if reply_mode not in REPLY_MODES:
        raise ValueError(f"reply_mode must be one of {', '.join(REPLY_MODES)}, not {reply_mode!r}")
    if reply_mode == "explicit":
        lead = text.lstrip()
        if lead.startswith(">"):
            kind, body = "reply", lead[1:]
        else:
            _, body = split_note(text)
            kind = "note"
    else:
        is_note, body = split_note(text)
        kind = "note" if is_note else "reply"
    body = body.strip()
    if not body:
        return "empty", ""
    return kind, body
