"""The telephony's door (``POST /api/v1/cti/events``), the screen pop to the answering operator only, and the
call kept with the ticket registered from it. On SQLite and PostgreSQL; the Redis bus against the real server."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis as redis_lib
from flask import current_app
from sqlalchemy import select

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.api.services import create_api_key
from hotline.cti.bus import LocalBus, RedisBus
from hotline.cti.models import Call
from hotline.extensions import db
from tests.conftest import REDIS_URL, service_unavailable
from tests.factories import PASSWORD

URL = "/api/v1/cti/events"


@pytest.fixture
def cti(app, world):
    """A telephony key, the world's operator at extension 8001 and a second operator at 8002."""
    _, raw = create_api_key("呼叫中心", kind="cti")
    _, partner = create_api_key("民心网")
    world.operator.extension = "8001"
    world.operator2 = create_user(
        "operator2", PASSWORD, "operator2", org_unit=world.hotline, roles=[(Role.OPERATOR, world.city)]
    )
    world.operator2.extension = "8002"
    db.session.commit()
    world.cti_key, world.partner_key = raw, partner
    return world


def post(client, key, **payload):
    return client.post(URL, json=payload, headers={"X-API-Key": key} if key else {})


def call_row(call_id) -> Call:
    db.session.expire_all()
    return db.session.execute(select(Call).filter_by(call_id=call_id)).scalar_one()


def sign_in(client, username):
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def as_own(request, *args, **kwargs):
    """A request in an app context of its own: the test's context would hand one client's signed-in user
    (kept on ``g``) to the next client's request."""
    with current_app.app_context():
        return request(*args, **kwargs)


def test_only_a_telephony_key_opens_the_door(client, cti):
    event = dict(event="ringing", call_id="c-1", caller="13800138000")
    assert post(client, None, **event).status_code == 401
    refused = post(client, cti.partner_key, **event)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"
    # …and the telephony's key opens no partner door.
    assert client.get("/api/v1/tickets", headers={"X-API-Key": cti.cti_key}).status_code == 401
    assert post(client, cti.cti_key, **event).status_code == 200


def test_a_call_rings_is_answered_and_hangs_up_each_event_once(client, cti):
    key = cti.cti_key
    first = post(
        client, key, event="ringing", call_id="c-2", caller="+86 138 0013 8000", time="2026-12-07T09:00:00+08:00"
    )
    assert first.status_code == 200 and first.get_json() == {"call_id": "c-2", "state": "ringing", "duplicate": False}
    again = post(client, key, event="ringing", call_id="c-2", caller="13800138000", time="2026-12-07T09:00:05+08:00")
    assert again.get_json()["duplicate"] is True
    answered = post(
        client,
        key,
        event="answered",
        call_id="c-2",
        caller="13800138000",
        agent="8001",
        time="2026-12-07T09:00:10+08:00",
    )
    assert answered.get_json()["state"] == "answered"
    ended = post(
        client,
        key,
        event="hangup",
        call_id="c-2",
        time="2026-12-07T09:03:40+08:00",
        recording_url="https://pbx.example.gov.cn/rec/c-2.wav",
    )
    assert ended.get_json() == {"call_id": "c-2", "state": "ended", "duplicate": False}
    call = call_row("c-2")
    assert call.caller == "13800138000"  # the +86 and the spaces gone: it matches the number operators type
    assert call.operator_id == cti.operator.id and call.agent == "8001"
    assert call.duration_seconds == 210 and call.recording_url.endswith("c-2.wav")
    assert call.ringing_at.hour == 1  # 09:00 in Shanghai, stored in UTC


def test_a_hangup_before_the_answer_still_ends_the_call(client, cti):
    post(client, cti.cti_key, event="hangup", call_id="c-3")
    post(client, cti.cti_key, event="answered", call_id="c-3", caller="13800138000", agent="8001")
    assert call_row("c-3").state == "ended"


@pytest.mark.parametrize(
    "payload, field",
    [
        (dict(event="ring", call_id="c", caller="13800138000"), "event"),
        (dict(event="ringing", call_id="", caller="13800138000"), "call_id"),
        (dict(event="ringing", call_id="a b", caller="13800138000"), "call_id"),
        (dict(event="ringing", call_id="c"), "caller"),
        (dict(event="ringing", call_id="c", caller="call me"), "caller"),
        (dict(event="answered", call_id="c", caller="13800138000"), "agent"),
        (dict(event="answered", call_id="c", caller="13800138000", agent="80 01"), "agent"),
        (dict(event="ringing", call_id="c", caller="13800138000", recording_url="https://x/y.wav"), "recording_url"),
        (dict(event="hangup", call_id="c", recording_url="ftp://x/y.wav"), "recording_url"),
        (dict(event="ringing", call_id="c", caller="13800138000", time="2026-12-07T09:00:00"), "time"),
        (dict(event="ringing", call_id="c", caller="13800138000", time="yesterday"), "time"),
    ],
)
def test_a_bad_event_names_its_field_and_stores_nothing(client, cti, payload, field):
    response = post(client, cti.cti_key, **payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"], response.get_json()
    assert db.session.execute(select(Call)).first() is None


def test_the_answering_operator_is_told_and_nobody_else(app, client, cti):
    bus = app.extensions["hotline_cti_bus"]
    assert isinstance(bus, LocalBus)
    with bus.subscribe(cti.operator.id) as mine, bus.subscribe(cti.operator2.id) as theirs:
        post(client, cti.cti_key, event="ringing", call_id="c-4", caller="13800138000")
        assert mine(0.05) is None  # ringing pops nothing up: the call is not theirs yet
        post(client, cti.cti_key, event="answered", call_id="c-4", caller="13800138000", agent="8001")
        assert mine(1.0) == {"call_id": "c-4"}
        assert theirs(0.05) is None
        post(client, cti.cti_key, event="answered", call_id="c-4", caller="13800138000", agent="8001")
        assert mine(0.05) is None  # a repeated event pops nothing up again


def test_the_console_stream_carries_the_call_and_the_call_is_only_its_operators(app, cti):
    app.config["CTI_STREAM_SECONDS"] = 2
    operator, other, telephony = app.test_client(), app.test_client(), app.test_client()
    as_own(sign_in, operator, "operator")
    as_own(sign_in, other, "operator2")
    received: list[str] = []

    def listen():
        with app.app_context():
            response = operator.get("/console/calls/stream", buffered=False)
            assert response.mimetype == "text/event-stream"
            for chunk in response.response:
                received.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
            response.close()

    reader = threading.Thread(target=listen)
    reader.start()
    time.sleep(0.5)
    post(telephony, cti.cti_key, event="answered", call_id="c-5", caller="13900139000", agent="8001")
    reader.join(timeout=10)
    stream = "".join(received)
    assert 'event: call\ndata: {"call_id": "c-5"}' in stream and stream.startswith("retry: 2000")
    shown = as_own(operator.get, "/console/calls/c-5")
    assert shown.status_code == 200 and shown.get_json()["caller"] == "13900139000"
    assert as_own(other.get, "/console/calls/c-5").status_code == 404
    handler = app.test_client()
    as_own(sign_in, handler, "district_handler")
    assert as_own(handler.get, "/console/calls/c-5").status_code == 403
    assert as_own(handler.get, "/console/calls/stream").status_code == 403


def test_the_ticket_registered_during_the_call_keeps_it(app, client, cti):
    post(client, cti.cti_key, event="answered", call_id="c-6", caller="13800138000", agent="8001")
    post(client, cti.cti_key, event="answered", call_id="c-7", caller="13800138000", agent="8002")
    console = app.test_client()
    as_own(sign_in, console, "operator")
    form = dict(
        appeal_type="complaint",
        title="小区噪音扰民",
        body="楼下商铺夜间施工。",
        citizen_phone="13800138000",
        category_id=cti.category.id,
        district_id=cti.district.id,
        address="东湖区人民路1号",
        outcome="register",
    )
    assert as_own(console.post, "/console/", data={**form, "call_id": "c-6"}).status_code == 302
    # Another operator's call:
    assert as_own(console.post, "/console/", data={**form, "call_id": "c-7"}).status_code == 302
    mine, theirs = call_row("c-6"), call_row("c-7")
    assert mine.ticket_id is not None
    assert theirs.ticket_id is None  # not linked; the appeal is registered all the same
    from hotline.tickets.models import Ticket

    assert len(db.session.execute(select(Ticket).filter_by(title="小区噪音扰民")).scalars().all()) == 2


def test_the_redis_bus_delivers_across_connections():
    try:
        redis_lib.Redis.from_url(REDIS_URL).ping()
    except redis_lib.RedisError as exc:
        service_unavailable("Redis", exc)
    prefix = f"test-cti-{uuid.uuid4().hex[:8]}"
    sender, listener = RedisBus(REDIS_URL, prefix), RedisBus(REDIS_URL, prefix)
    with listener.subscribe(7) as receive, listener.subscribe(8) as other:
        receive(0.2)  # the subscription is confirmed before anything is sent
        other(0.2)
        sender.publish(7, {"call_id": "c-8"})
        assert receive(2.0) == {"call_id": "c-8"}
        assert other(0.2) is None


def test_a_console_that_reconnects_is_given_the_call_it_missed(app, cti):
    telephony, operator, other = app.test_client(), app.test_client(), app.test_client()
    post(telephony, cti.cti_key, event="answered", call_id="c-9", caller="13800138000", agent="8001")
    as_own(sign_in, operator, "operator")
    as_own(sign_in, other, "operator2")
    stream = as_own(operator.get, "/console/calls/stream").get_data(as_text=True)
    assert 'event: call\ndata: {"call_id": "c-9"}' in stream  # published before this stream existed
    assert "c-9" not in as_own(other.get, "/console/calls/stream").get_data(as_text=True)


def test_staff_see_the_tickets_calls_and_playing_a_recording_is_recorded(app, cti):
    from hotline.core.audit import AuditEntry
    from hotline.tickets.models import TicketEvent

    ticket = cti.ticket_in("in_progress")
    post(
        app.test_client(),
        cti.cti_key,
        event="answered",
        call_id="c-10",
        caller="13800138000",
        agent="8001",
        time="2026-12-07T09:00:00+08:00",
    )
    post(
        app.test_client(),
        cti.cti_key,
        event="hangup",
        call_id="c-10",
        time="2026-12-07T09:02:05+08:00",
        recording_url="https://pbx.example.gov.cn/rec/c-10.wav",
    )
    call = call_row("c-10")
    call.ticket_id = ticket.id
    db.session.commit()
    page_url, play_url = f"/tickets/{ticket.tracking_no}", f"/tickets/{ticket.tracking_no}/calls/{call.id}/recording"

    dispatcher = app.test_client()
    as_own(sign_in, dispatcher, "dispatcher")
    page = as_own(dispatcher.get, page_url).get_data(as_text=True)
    assert 'data-testid="calls"' in page and "c-10" in page and "2 分 5 秒" in page
    played = as_own(dispatcher.post, play_url)
    assert played.status_code == 302 and played.headers["Location"] == "https://pbx.example.gov.cn/rec/c-10.wav"
    db.session.expire_all()
    events = db.session.execute(select(TicketEvent).filter_by(ticket_id=ticket.id, action="play_recording")).scalars()
    assert [e.data for e in events] == [{"call": "c-10"}]
    audit = db.session.execute(select(AuditEntry).filter_by(action="call.recording")).scalars().all()
    assert [a.target for a in audit] == [ticket.tracking_no]

    handler = app.test_client()  # the unit handling it sees neither the calls nor the recording
    as_own(sign_in, handler, "district_handler")
    assert "c-10" not in as_own(handler.get, page_url).get_data(as_text=True)
    assert as_own(handler.post, play_url).status_code == 403
    assert as_own(dispatcher.post, f"/tickets/{ticket.tracking_no}/calls/{call.id + 99}/recording").status_code == 404


def test_set_extension_from_the_command_line(app, cti):
    from hotline.core.audit import AuditEntry

    def users(*args):
        return app.test_cli_runner().invoke(args=["users", *args])

    done = users("set-extension", "dispatcher", "8003")
    assert done.exit_code == 0 and "dispatcher at extension 8003" in done.output
    taken = users("set-extension", "dispatcher", "8001")  # the operator's
    assert taken.exit_code == 1 and "operator" in taken.output
    bad = users("set-extension", "dispatcher", "80 03")
    assert bad.exit_code == 1
    removed = users("set-extension", "dispatcher", "")
    assert removed.exit_code == 0 and "no extension" in removed.output
    db.session.expire_all()
    assert cti.dispatcher.extension is None
    changes = db.session.execute(select(AuditEntry).filter_by(action="user.set_extension")).scalars().all()
    assert len(changes) == 2  # set, then removed; the refusals changed nothing
