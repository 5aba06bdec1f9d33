"""The Asterisk adapter's pure half (hotline.cti.ami): AMI messages read, and a call's AMI events turned into the
hotline's ringing / answered / hangup, each once; the delivery's retry rules (hotline.cti.asterisk)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.cti.ami import CallMapper, event_time, extension_of, login_action, parse_message, recording_url
from hotline.cti.asterisk import Backoff, outcome_of
from tests.fake_ami import ABANDONED_CALL, ANSWERED_CALL, RECORDING, abandoned_call, answered_call

READ_AT = datetime(2026, 12, 7, 1, 5, tzinfo=UTC)
PREFIX = "https://pbx.example.gov.cn/rec/"


def feed_all(mapper: CallMapper, texts: list[str]) -> list[dict]:
    out = []
    for text in texts:
        out += mapper.feed(parse_message(text), READ_AT)
    return out


def test_a_message_is_read_with_lower_case_keys_and_its_first_value():
    message = parse_message("Event: Hangup\r\nUniqueID: 1.2\r\nCause-txt: Normal: Clearing\r\nCause: 16\r\nCause: 17")
    assert message == {"event": "Hangup", "uniqueid": "1.2", "cause-txt": "Normal: Clearing", "cause": "16"}
    assert parse_message("Response: Follows\r\nsome output without a colon") == {"response": "Follows"}


def test_the_login_action_is_one_message_ending_with_a_blank_line():
    text = login_action("hotline", "s3cret", "a1").decode()
    assert text.endswith("\r\n\r\n") and text.count("\r\n\r\n") == 1
    assert parse_message(text) == {
        "action": "Login",
        "actionid": "a1",
        "username": "hotline",
        "secret": "s3cret",
        "events": "call,agent,dialplan",
    }


@pytest.mark.parametrize(
    "channel, extension",
    [
        ("PJSIP/8001-00000012", "8001"),
        ("SIP/8002-0000a1b2", "8002"),
        ("PJSIP/8001", "8001"),  # a queue member's Interface
        ("Local/8003@from-queue-0000001a;1", "8003"),
        ("IAX2/agent7-1234", "agent7"),
        ("", None),
        (None, None),
        ("garbage", None),
    ],
)
def test_the_extension_is_read_from_the_channel_name(channel, extension):
    assert extension_of(channel) == extension


def test_the_recording_link_keeps_the_dated_folders_under_the_monitor_dir():
    assert recording_url(RECORDING, PREFIX, "/var/spool/asterisk/monitor/") == (
        "https://pbx.example.gov.cn/rec/2026/12/07/in-12345-1796605200.17.wav"
    )
    assert recording_url("/srv/rec/a b.wav", PREFIX, "/var/spool/asterisk/monitor") == PREFIX + "a%20b.wav"


def test_the_event_time_is_asterisks_timestamp_or_when_it_was_read():
    assert event_time({"timestamp": "1796605200.500000"}, READ_AT) == datetime(2026, 12, 7, 1, 0, 0, 500000, UTC)
    assert event_time({}, READ_AT) == READ_AT
    assert event_time({"timestamp": "soon"}, READ_AT) == READ_AT


def test_an_answered_call_rings_is_answered_at_8001_and_hangs_up_with_its_recording():
    mapper = CallMapper(recording_prefix=PREFIX)
    events = feed_all(mapper, answered_call())
    assert events == [
        {"event": "ringing", "call_id": ANSWERED_CALL, "time": "2026-12-07T01:00:00+00:00", "caller": "+8613800138000"},
        {
            "event": "answered",
            "call_id": ANSWERED_CALL,
            "time": "2026-12-07T01:00:08+00:00",
            "caller": "+8613800138000",
            "agent": "8001",
        },
        {
            "event": "hangup",
            "call_id": ANSWERED_CALL,
            "time": "2026-12-07T01:03:38+00:00",
            "caller": "+8613800138000",
            "recording_url": PREFIX + "2026/12/07/in-12345-1796605200.17.wav",
        },
    ]


def test_an_abandoned_call_rings_and_hangs_up_without_an_answer_or_a_recording():
    mapper = CallMapper(recording_prefix=PREFIX)
    events = feed_all(mapper, abandoned_call())
    at = READ_AT.isoformat()
    assert events == [
        {"event": "ringing", "call_id": ABANDONED_CALL, "time": at, "caller": "027-87654321"},
        {"event": "hangup", "call_id": ABANDONED_CALL, "time": at, "caller": "027-87654321"},
    ]  # the DialEnd CANCEL and the dialled channel's hang-up after the caller's start nothing again


def test_two_calls_at_once_are_kept_apart_and_each_event_is_sent_once():
    mapper = CallMapper()
    answered, abandoned = answered_call(), abandoned_call()
    interleaved = [text for pair in zip(answered, abandoned, strict=False) for text in pair] + answered[7:]
    events = feed_all(mapper, answered[:1] + interleaved)  # a repeated Newchannel sends no second ringing
    by_call = {(e["call_id"], e["event"]) for e in events}
    assert len(events) == len(by_call) == 5
    assert ("1796605260.19", "answered") not in by_call
    assert "recording_url" not in next(e for e in events if e["event"] == "hangup")  # no prefix: no link


def test_a_queue_answer_reads_the_members_interface():
    mapper = CallMapper()
    first = answered_call()[0]
    connect = (
        f"Event: AgentConnect\r\nChannel: PJSIP/trunk-00000011\r\nCallerIDNum: 13800138000\r\n"
        f"Uniqueid: {ANSWERED_CALL}\r\nLinkedid: {ANSWERED_CALL}\r\nDestChannel: Local/8002@from-queue-0001;1\r\n"
        "Interface: PJSIP/8002\r\nQueue: 12345\r\nHoldTime: 12\r\nRingTime: 4\r\n"
    )
    events = feed_all(mapper, [first, connect])
    assert [e["event"] for e in events] == ["ringing", "answered"] and events[1]["agent"] == "8002"
    assert events[1]["caller"] == "13800138000"


def test_a_call_seen_from_its_answer_on_is_still_reported():
    """The adapter (re)connected in the middle of the call: its answer carries the caller's number."""
    events = feed_all(CallMapper(), answered_call()[7:])
    assert [e["event"] for e in events] == ["answered", "hangup"]


def test_a_withheld_number_is_not_reported_as_ringing_or_answered():
    events = feed_all(CallMapper(), abandoned_call(caller="<unknown>"))
    assert events == [{"event": "hangup", "call_id": ABANDONED_CALL, "time": READ_AT.isoformat()}]


def test_only_calls_entering_the_given_contexts_are_followed():
    mapper = CallMapper(contexts=frozenset({"from-pstn"}))
    outgoing = [text.replace("Context: from-pstn", "Context: from-internal") for text in abandoned_call()]
    assert feed_all(mapper, outgoing) == []
    assert [e["event"] for e in feed_all(mapper, answered_call())] == ["ringing", "answered", "hangup"]


def test_an_ended_call_is_forgotten_after_ten_minutes_one_never_seen_ending_after_half_a_day():
    mapper = CallMapper()
    for text in abandoned_call():
        mapper.feed(parse_message(text), READ_AT, clock=0.0)
    mapper.feed(parse_message(answered_call()[0]), READ_AT, clock=1.0)
    assert set(mapper.calls) == {ABANDONED_CALL, ANSWERED_CALL}
    other = answered_call(call="1796605300.21")
    mapper.feed(parse_message(other[0]), READ_AT, clock=601.0)
    assert set(mapper.calls) == {ANSWERED_CALL, "1796605300.21"}
    mapper.feed(parse_message(abandoned_call(call="1796650000.31")[0]), READ_AT, clock=12 * 3600.0 + 2)
    assert set(mapper.calls) == {"1796605300.21", "1796650000.31"}


def test_messages_without_a_call_are_ignored():
    assert CallMapper().feed(parse_message("Event: FullyBooted\r\nStatus: Fully Booted"), READ_AT) == []
    assert CallMapper().feed(parse_message("Response: Success\r\nPing: Pong"), READ_AT) == []


@pytest.mark.parametrize(
    "status, outcome",
    [(200, "delivered"), (201, "delivered"), (500, "retry"), (503, "retry"), (429, "retry")]
    + [(400, "refused"), (401, "refused"), (404, "refused"), (422, "refused")],
)
def test_what_the_hotline_answers_decides_whether_the_event_is_sent_again(status, outcome):
    assert outcome_of(status) == outcome


def test_the_pause_doubles_up_to_its_longest_and_starts_again_after_a_success():
    backoff = Backoff(1, 8)
    assert [backoff.next() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    backoff.reset()
    assert backoff.next() == 1
