"""Parser of the ``/sms`` command text, shared by Slack and Discord.

Bridges hand over the raw text after ``/sms`` (or after a bot mention in a thread) and
get a :class:`Command` back, or a :class:`CommandError` whose message is ready to show
to the member as a short, private answer saying how to write the command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain import automation_text
from bot.domain.phones import InvalidPhone, looks_like_phone, normalize_phone

__all__ = ["COMMANDS", "HELP_TEXT", "INBOX_FILTERS", "Command", "CommandError", "parse_command"]

COMMANDS = (
    "assign", "unassign", "close", "reopen", "optout", "optin", "cancel", "draft",
    "note", "new", "search", "inbox", "tag", "snippet", "block", "unblock", "blocked",
    "report", "member", "route", "audit", "settings", "name", "contacts", "help",
)  # fmt: skip
REPORT_PERIODS = ("today", "week", "month")
INBOX_FILTERS = ("open", "unread", "mine", "unassigned", "closed", "needs-response", "all")
_ALIASES = {
    "opt-out": "optout",
    "opt-in": "optin",
    "?": "help",
    "tags": "tag",
    "snippets": "snippet",
}
_PHONE_ONLY = ("unassign", "close", "reopen", "optout", "optin", "cancel", "block", "unblock")
_NAME_RE = re.compile(r"[a-z0-9_-]{1,32}")
# Slack "<@U123|dana>" / "<@U123>", Discord "<@123>" / "<@!123>".
_USER_MENTION = re.compile(r"<@!?([A-Za-z0-9]+)(?:\|([^>]*))?>")
ROLES = ("admin", "agent", "limited")
MEMBER_ACTIONS = ("add", "role", "remove", "list", "link")
# Organization settings admins may change from chat, unless the TOML declares them.
PLAIN_SETTINGS = ("timezone", "quiet_hours", "help_text", "remind_after_minutes", "voice")
SETTINGS = PLAIN_SETTINGS + automation_text.KEYS
_PHONE_EXAMPLE = "+15551234567"
_MAX_PHONE_WORDS = 16
_PHONE_WORD = re.compile(r"(?:[Tt][Ee][Ll]:)?[0-9+().\-/]+")
# Slack may wrap a number it recognised as a link: "<tel:+15551234567|+1 555 123 4567>".
_SLACK_TEL = re.compile(r"<tel:([^|>]*)(?:\|[^>]*)?>")

HELP_TEXT = """\
*`/sms` commands*
• `/sms assign @member` — make a teammate responsible for the conversation
• `/sms unassign` — remove the assignee
• `/sms close` / `/sms reopen` — close or reopen the conversation
• `/sms optout` / `/sms optin` — stop or allow texting this lead
• `/sms cancel` — cancel a reply that is waiting to be sent
• `/sms draft [instructions]` — ask the AI for a reply only you see first
• `/sms note <text>` — add an internal note; it is never sent
• `/sms new <phone> [text]` — start a conversation, optionally with a first SMS
• `/sms search <name, email, number or words>` — find leads and messages, newest first
• `/sms inbox [open|unread|mine|unassigned|closed|needs-response|all]` — list conversations
• `/sms tag [add|remove] <tag>` / `/sms tag list` — label the conversation
• `/sms snippet <name>` — insert a saved reply
• `/sms snippet add <name> <text>` / `snippet remove <name>` / `snippet list` — manage saved replies
• `/sms block` / `/sms unblock` — block a number (its texts are kept aside, open no thread)
• `/sms blocked` — blocked and spam numbers, with how many texts they sent
• `/sms report [today|week|month]` — first response, time to close, with a chart
• `/sms member add @teammate [admin|agent|limited]`, `member role @teammate limited`, \
`member remove @teammate`, `member list`, `member link @teammate [member]` — who may \
use smsbridge (admins)
• `/sms route +15551234567 here` / `route +15551234567 off` / `route list` — where a \
line's conversations go (admins)
• `/sms audit` — the last 20 admin changes: who, what, when (admins)
• `/sms name <new name>` — rename the lead (outside a thread: `/sms name <phone> <name>`)
• `/sms contacts export` — the organization's leads as a CSV file, sent to you
• `/sms settings` / `/sms settings <setting> <value>` — the team's settings (admins \
change them): timezone, quiet_hours, help_text, remind_after_minutes, voice, \
business_hours, away_message, ack_message, auto_close_after_days, escalate_after_minutes, \
escalate_to, block_keywords; `off` turns an automation off
• `/sms help` — this list
Outside a thread, `unassign`, `close`, `reopen`, `optout`, `optin`, `cancel`, `block` and \
`unblock` take a phone number: `/sms close +15551234567`.
In a thread, start a message with `note:`, `//` or `;;` to keep it internal."""


class CommandError(ValueError):
    """A command that cannot be run as typed; the message says how to write it."""


@dataclass(frozen=True)
class Command:
    """A parsed ``/sms`` command: canonical lower-case ``name`` and its arguments."""

    name: str
    args: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        """An argument, or ``default`` when the command form does not have it."""
        return self.args.get(key, default)

    @property
    def phone(self) -> str | None:
        """The raw phone argument, if one was given (not normalized)."""
        return self.args.get("phone") or None


def _shown(word: str) -> str:
    # Echo user text safely inside backticks and keep the answer short.
    word = word.replace("`", "'")
    return word if len(word) <= 30 else word[:29] + "…"


def _split(text: str) -> tuple[str, str]:
    """(first word, the rest with its inner spacing kept)."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _member(raw: str) -> str:
    if raw.startswith("<@&"):
        raise CommandError("`/sms assign` needs a teammate, not a role: `/sms assign @dana`")
    if m := _USER_MENTION.fullmatch(raw):
        return m.group(1)
    member = raw[1:].strip() if raw.startswith("@") else raw
    if not member:
        raise CommandError("`/sms assign` needs a teammate: `/sms assign @dana`")
    return member


def _assign(rest: str) -> dict[str, str]:
    if not rest:
        raise CommandError("`/sms assign` needs a teammate: `/sms assign @dana`")
    # From a Slack channel a phone may follow the teammate: "assign @dana +15551234567".
    words = rest.split()
    start = len(words)
    while start > 1 and _PHONE_WORD.fullmatch(words[start - 1]):
        start -= 1
    tail = " ".join(words[start:])
    if tail and looks_like_phone(tail):
        return {"member": _member(" ".join(words[:start])), "phone": tail}
    return {"member": _member(rest)}


def _members(rest: str) -> dict[str, str]:
    action, tail = _split(rest)
    verb = action.lower()
    usage = (
        "`/sms member add @dana agent`, `/sms member role @dana limited`, "
        "`/sms member remove @dana`, `/sms member link @dana` or `/sms member list`"
    )
    if verb not in MEMBER_ACTIONS:
        raise CommandError(f"`/sms member` needs what to do: {usage}")
    if verb == "list":
        if tail:
            raise CommandError(f"`/sms member list` takes nothing more: {usage}")
        return {"action": "list"}
    # A mention may carry a name with spaces: "<@U123|Dana Diaz> agent".
    mention = _USER_MENTION.match(tail)
    who, more = (mention.group(0), tail[mention.end() :].strip()) if mention else _split(tail)
    if not who:
        raise CommandError(f"`/sms member {verb}` needs a teammate: {usage}")
    if verb in ("add", "link") and mention is None:
        raise CommandError(
            f"`/sms member {verb}` needs the teammate mentioned (`@name`, picked from the "
            f"list as you type) so their account is known: {usage}"
        )
    args = {"action": verb, "user": mention.group(1) if mention else _member(who)}
    if mention and mention.group(2):
        args["user_name"] = mention.group(2).strip()
    role = more.lower()
    if verb in ("add", "role"):
        if verb == "role" and not role:
            raise CommandError(f"`/sms member role` needs the new role: {usage}")
        role = role or "agent"
        if role not in ROLES:
            raise CommandError(
                f"`{_shown(more)}` is not a role: use `admin`, `agent` or `limited`."
            )
        args["role"] = role
    elif verb == "link":
        if more:
            args["member"] = _member(more)
    elif more:
        raise CommandError(f"`/sms member {verb}` takes only the teammate: {usage}")
    return args


def _route(rest: str) -> dict[str, str]:
    usage = (
        "`/sms route +15551234567 here` (in the channel that should get its conversations), "
        "`/sms route +15551234567 off` or `/sms route list`"
    )
    words = rest.split()
    if [w.lower() for w in words] == ["list"]:
        return {"action": "list"}
    if len(words) < 2 or words[-1].lower() not in ("here", "off"):
        raise CommandError(f"`/sms route` needs a line and `here` or `off`: {usage}")
    phone = " ".join(words[:-1])
    if not looks_like_phone(phone):
        raise CommandError(f"`{_shown(phone)}` is not a phone number: {usage}")
    return {"action": words[-1].lower(), "phone": phone}


def _phone_only(name: str, rest: str) -> dict[str, str]:
    if not rest:
        return {}
    if not looks_like_phone(rest):
        raise CommandError(
            f"`/sms {name}` takes nothing, or the lead's phone number: "
            f"`/sms {name} {_PHONE_EXAMPLE}`"
        )
    return {"phone": rest}


def _is_valid_phone(raw: str) -> bool:
    try:
        normalize_phone(raw)
    except InvalidPhone:
        return False
    return True


def _new(rest: str) -> dict[str, str]:
    words = rest.split()
    # The phone may be typed with spaces ("+1 415 555 0100 Hi"): among the leading
    # phone-like words take the longest run that is a valid number, else the whole run
    # so the service can say what is wrong with it.
    run = 0  # capped: no number has more parts, and each candidate costs a parse
    while run < min(len(words), _MAX_PHONE_WORDS) and _PHONE_WORD.fullmatch(words[run]):
        run += 1
    if run == 0 or not looks_like_phone(" ".join(words[:run])):
        raise CommandError(
            f"`/sms new` needs the lead's phone number first: `/sms new {_PHONE_EXAMPLE} Hi!`"
        )
    take = next((n for n in range(run, 0, -1) if _is_valid_phone(" ".join(words[:n]))), run)
    phone = " ".join(words[:take])
    text = rest.split(maxsplit=take)[take].strip() if len(words) > take else ""
    return {"phone": phone, "text": text}


def _name(kind: str, raw: str, example: str) -> str:
    name = raw.lower()
    if kind == "tag":
        name = name.removeprefix("#")
    # isascii first: str.lower() folds look-alikes such as the Kelvin sign into "k".
    if not (raw.isascii() and _NAME_RE.fullmatch(name)):
        raise CommandError(
            f"`{_shown(raw)}` is not a valid {kind} name: use up to 32 letters, digits, "
            f"`-` or `_`, like `{example}`."
        )
    return name


def _tag(rest: str) -> dict[str, str]:
    action, tail = _split(rest)
    usage = "`/sms tag add hot-lead`, `/sms tag remove hot-lead` or `/sms tag list`"
    if not action:
        raise CommandError(f"`/sms tag` needs a tag: {usage}")
    if action.lower() == "list":
        if tail:
            raise CommandError(f"`/sms tag list` takes nothing more: {usage}")
        return {"action": "list", "tag": ""}
    if action.lower() in ("add", "remove"):
        verb = action.lower()
    else:
        verb, tail = "add", rest
    words = tail.split()
    if len(words) != 1:
        problem = "needs a tag" if not words else "takes one tag at a time"
        raise CommandError(f"`/sms tag {verb}` {problem}: {usage}")
    return {"action": verb, "tag": _name("tag", words[0], "hot-lead")}


def _snippet(rest: str) -> dict[str, str]:
    action, tail = _split(rest)
    usage = (
        "`/sms snippet add hours We are open 9-5.`, `/sms snippet hours`, "
        "`/sms snippet remove hours` or `/sms snippet list`"
    )
    verb = action.lower()
    if not action:
        raise CommandError(f"`/sms snippet` needs a name: {usage}")
    if verb == "list":
        if tail:
            raise CommandError(f"`/sms snippet list` takes nothing more: {usage}")
        return {"action": "list", "name": "", "text": ""}
    if verb in ("add", "remove"):
        raw_name, text = _split(tail)
        if not raw_name:
            raise CommandError(f"`/sms snippet {verb}` needs a name: {usage}")
        name = _name("snippet", raw_name, "hours")
        if verb == "add" and not text:
            raise CommandError(f"`/sms snippet add {name}` needs the text to save: {usage}")
        if verb == "remove" and text:
            raise CommandError(f"`/sms snippet remove` takes only a name: {usage}")
        return {"action": verb, "name": name, "text": text}
    if tail:
        raise CommandError(f"`/sms snippet {_shown(action)}` takes only a name: {usage}")
    return {"action": "use", "name": _name("snippet", action, "hours"), "text": ""}


def _inbox(rest: str) -> dict[str, str]:
    value = rest.lower() or "open"
    if value not in INBOX_FILTERS:
        allowed = ", ".join(f"`{f}`" for f in INBOX_FILTERS)
        raise CommandError(f"`/sms inbox` shows one of: {allowed}. Example: `/sms inbox unread`")
    return {"filter": value}


MAX_LEAD_NAME = 200


def _lead_name(rest: str) -> dict[str, str]:
    """`name Maria Lopez` in a thread, `name +14155550123 Maria Lopez` in a channel: a
    valid number first is the lead's, anything else is all name."""
    usage = "`/sms name Maria Lopez` (in the thread), `/sms name +15551234567 Maria Lopez`"
    words = rest.split()
    run = 0
    while run < min(len(words), _MAX_PHONE_WORDS) and _PHONE_WORD.fullmatch(words[run]):
        run += 1
    take = next((n for n in range(run, 0, -1) if _is_valid_phone(" ".join(words[:n]))), 0)
    phone = " ".join(words[:take])
    name = " ".join(words[take:])
    if not name:
        raise CommandError(f"`/sms name` needs the lead's new name: {usage}")
    if len(name) > MAX_LEAD_NAME:
        raise CommandError(f"A name has at most {MAX_LEAD_NAME} characters.")
    return {"phone": phone, "name": name} if phone else {"name": name}


def _contacts(rest: str) -> dict[str, str]:
    if rest.strip().lower() != "export":
        raise CommandError(
            "`/sms contacts export` sends you the organization's leads as a CSV file; "
            "import one with `smsbridge contacts import FILE.csv` on the server."
        )
    return {"action": "export"}


def _required(name: str, key: str, what: str, rest: str, example: str) -> dict[str, str]:
    if not rest:
        raise CommandError(f"`/sms {name}` needs {what}: `/sms {name} {example}`")
    return {key: rest}


def parse_command(text: str) -> Command:
    """Parse ``/sms`` text into a Command; raise CommandError with a usable answer."""
    word, rest = _split(_SLACK_TEL.sub(r"\1", text))
    name = _ALIASES.get(word.lower(), word.lower())
    if not name or name == "help":
        return Command("help", {})
    if name == "assign":
        return Command(name, _assign(rest))
    if name in _PHONE_ONLY:
        return Command(name, _phone_only(name, rest))
    if name == "draft":
        return Command(name, {"instructions": rest})
    if name == "note":
        return Command(
            name, _required(name, "text", "the note text", rest, "Called, will try again Friday")
        )
    if name == "new":
        return Command(name, _new(rest))
    if name == "search":
        return Command(
            name, _required(name, "query", "a name, a number or some words", rest, "Maria")
        )
    if name == "inbox":
        return Command(name, _inbox(rest))
    if name == "tag":
        return Command(name, _tag(rest))
    if name == "snippet":
        return Command(name, _snippet(rest))
    if name == "name":
        return Command(name, _lead_name(rest))
    if name == "contacts":
        return Command(name, _contacts(rest))
    if name == "blocked":
        if rest:
            raise CommandError("`/sms blocked` takes nothing: it lists the blocked numbers.")
        return Command(name, {})
    if name == "member":
        return Command(name, _members(rest))
    if name == "settings":
        key, value = _split(rest)
        if key and key.lower() not in SETTINGS:
            raise CommandError(
                f"`{_shown(key)}` is not a setting: use one of {', '.join(SETTINGS)}, like "
                "`/sms settings quiet_hours 21:00 08:00`."
            )
        if key and not value:
            raise CommandError(f"`/sms settings {key.lower()}` needs the new value.")
        return Command(name, {"key": key.lower(), "value": value})
    if name == "audit":
        if rest:
            raise CommandError("`/sms audit` takes nothing: it lists the last admin changes.")
        return Command(name, {})
    if name == "route":
        return Command(name, _route(rest))
    if name == "report":
        period = rest.lower() or "week"
        if period not in REPORT_PERIODS:
            raise CommandError(
                "`/sms report` covers `today`, `week` or `month`: `/sms report week`"
            )
        return Command(name, {"period": period})
    raise CommandError(
        f"`/sms {_shown(word)}` is not a command. Try one of: "
        f"{', '.join(COMMANDS)}, or `/sms help`."
    )
