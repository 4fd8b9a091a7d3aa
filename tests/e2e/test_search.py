"""`/sms search TEXT`: names, emails, companies, phone digits and the words of messages,
newest first, each hit with its thread, never another organization's."""

from __future__ import annotations

import io

from bot.app import SmsBridge
from bot.domain.contacts import read_contacts
from bot.facade import Facade
from bot.results import InboxItem, Listed
from bot.services.contacts import import_contacts
from bot.types import Actor, ChatRef
from standins.twilio import TwilioStandIn
from tests.conftest import LINE, applied

SALES = ChatRef("slack", "C0SALES")
DANA, GINA = Actor("slack", "U0DANA"), Actor("slack", "U0GINA")
MARIA, BOB, ANN = "+14155550100", "+14155550101", "+12125550177"


async def texts(bridge: SmsBridge, twilio: TwilioStandIn, frm: str, body: str, to: str = LINE):
    url = bridge.settings.public_url + "/twilio/sms"
    assert (await twilio.send_inbound(url, from_=frm, to=to, body=body))[0] == 200
    await applied(bridge)


async def search(bridge: SmsBridge, query: str, who: Actor = DANA, where: ChatRef = SALES):
    assert bridge.core is not None
    listed = await Facade(bridge.core).command(who, where, f"search {query}")
    assert isinstance(listed, Listed), listed.text
    items = list(listed.items)
    return [(i.conversation.lead_phone, i.conversation.preview) for i in items], items


async def test_search_finds_names_emails_digits_and_words_newest_first(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    assert bridge.core is not None
    await texts(bridge, twilio, MARIA, "Can you quote a metal roof for the garage?")
    await texts(bridge, twilio, BOB, "Hi, the gutter is leaking again")
    await texts(bridge, twilio, ANN, "Is the roofing crew coming Tuesday?")
    await texts(bridge, twilio, MARIA, "Also, what about Tuesday?")
    csv = "phone,name,email,company\n"
    csv += f"{MARIA},Maria López,maria@lopez.example,Lopez Bakery\n{BOB},Bob Smith,,\n"
    await import_contacts(bridge.core, 1, read_contacts(io.StringIO(csv)))

    hits, items = await search(bridge, "lópez")
    assert [h[0] for h in hits] == [MARIA]
    assert isinstance(items[0], InboxItem) and items[0].conversation.lead_name == "Maria López"
    assert items[0].threads == ()  # none yet: the chat bridges are off in this test

    assert [h[0] for h in (await search(bridge, "lopez.example"))[0]] == [MARIA]
    assert [h[0] for h in (await search(bridge, "bakery"))[0]] == [MARIA]
    assert [h[0] for h in (await search(bridge, "555-0101"))[0]] == [BOB]

    # Words of messages, an old one included; newest first; the hit shows the message.
    hits, _ = await search(bridge, "metal roof")
    assert hits == [(MARIA, "Can you quote a metal roof for the garage?")]
    hits, _ = await search(bridge, "tuesday")
    assert hits == [
        (MARIA, "Also, what about Tuesday?"),
        (ANN, "Is the roofing crew coming Tuesday?"),
    ]
    hits, _ = await search(bridge, "roof")  # the last word is a prefix: "roofing" too
    assert [h[0] for h in hits] == [ANN, MARIA]
    assert (await search(bridge, "plumbing"))[0] == []


async def test_search_never_crosses_organizations(bridge: SmsBridge, twilio: TwilioStandIn) -> None:
    await texts(bridge, twilio, MARIA, "secret roof budget")
    await texts(bridge, twilio, BOB, "globex roof question", to="+15005550001")
    hits, _ = await search(bridge, "roof", GINA, ChatRef("slack", "C0GLOBEX"))
    assert hits == [(BOB, "globex roof question")]
    hits, _ = await search(bridge, "roof")
    assert hits == [(MARIA, "secret roof budget")]


async def test_search_syntax_characters_are_plain_text(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    await texts(bridge, twilio, MARIA, 'He said "NEAR" AND * OR ( -- ok')
    for query in ['"NEAR"', "AND *", "(", "-- ok", "'; DROP TABLE leads; --", "a:*&b"]:
        await search(bridge, query)
    assert [h[0] for h in (await search(bridge, '"near"'))[0]] == [MARIA]
