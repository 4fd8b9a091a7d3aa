"""Webhook parsers fed garbage: a clear ValueError (-> 4xx), never anything else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.types import InboundSms
from bridges.sms.twilio import parse_inbound, parse_status

KEYS = st.sampled_from(
    [
        "MessageSid",
        "SmsSid",
        "From",
        "To",
        "Body",
        "NumMedia",
        "MediaUrl0",
        "MediaUrl1",
        "MediaContentType0",
        "OptOutType",
        "MessageStatus",
        "ErrorCode",
    ]
)
FORMS = st.dictionaries(st.one_of(KEYS, st.text(max_size=12)), st.text(max_size=40), max_size=10)


@settings(max_examples=300)
@given(FORMS)
def test_parse_inbound_accepts_or_refuses_clearly(form: dict[str, str]) -> None:
    try:
        sms = parse_inbound(form)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(sms, InboundSms)
        assert sms.provider_sid and sms.to_phone.startswith("+")


@settings(max_examples=300)
@given(FORMS)
def test_parse_status_accepts_or_refuses_clearly(form: dict[str, str]) -> None:
    try:
        update = parse_status(form)
    except ValueError as exc:
        assert str(exc)
    else:
        assert update.provider_sid


def test_mms_fields_are_kept_in_order() -> None:
    sms = parse_inbound(
        {
            "MessageSid": "MM" + "1" * 32,
            "From": "+14155550100",
            "To": "+15005550006",
            "Body": "",
            "NumMedia": "2",
            "MediaUrl0": "https://api.twilio.com/a.jpg",
            "MediaContentType0": "image/jpeg",
            "MediaUrl1": "https://api.twilio.com/b.pdf",
            "MediaContentType1": "application/pdf",
            "OptOutType": "",
        }
    )
    assert [(m.url[-5:], m.content_type) for m in sms.media] == [
        ("a.jpg", "image/jpeg"),
        ("b.pdf", "application/pdf"),
    ]
    assert sms.opt_out_type is None


def test_num_media_out_of_range_is_refused() -> None:
    base = {"MessageSid": "SM1", "From": "+14155550100", "To": "+15005550006"}
    for bad in ("11", "-1", "x", "1"):
        try:
            parse_inbound({**base, "NumMedia": bad})
        except ValueError:
            continue
        raise AssertionError(f"NumMedia={bad} accepted without its media")
