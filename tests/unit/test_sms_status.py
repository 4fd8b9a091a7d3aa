"""An outbound SMS's statuses (bot/domain/sms_status.py) against every status Twilio's
official spec says a Message can have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain import sms_status

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "twilio_api_v2010.fixed.json"
INBOUND_ONLY = {"receiving", "received"}


def twilio_statuses() -> set[str]:
    schemas = json.loads(SPEC.read_text())["components"]["schemas"]
    return set(schemas["message_enum_status"]["enum"])


@pytest.mark.skipif(not SPEC.exists(), reason="Twilio OpenAPI spec not available")
def test_every_status_twilio_reports_for_a_sent_sms_has_an_order_and_a_stage() -> None:
    for status in twilio_statuses() - INBOUND_ONLY:
        assert status in sms_status.RANK, status
        assert sms_status.stage(status) is not None, status


def test_a_status_twilio_has_taken_reads_as_sent_not_waiting() -> None:
    assert sms_status.stage("pending") == "waiting"
    for status in ("accepted", "scheduled", "queued", "sending", "sent"):
        assert sms_status.stage(status) == "sent"


def test_no_stage_moves_back_to_waiting_once_twilio_has_the_sms() -> None:
    waiting = [s for s in sms_status.RANK if sms_status.stage(s) == "waiting"]
    later = [s for s in sms_status.RANK if sms_status.stage(s) != "waiting"]
    assert max(sms_status.RANK[s] for s in waiting) < min(sms_status.RANK[s] for s in later)


def test_an_inbound_or_missing_status_shows_no_stage() -> None:
    assert sms_status.stage("received") is None
    assert sms_status.stage(None) is None
