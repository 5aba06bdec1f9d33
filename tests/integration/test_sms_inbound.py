"""``POST /api/v1/sms/inbound``: citizens' replies to the release SMS (1 / 2 / 3 rate it as the web does, TD opts
out, other text becomes a note or a draft), signed and idempotent; and the release SMS's signed rating link."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.core.audit import audit_entries
from hotline.core.clock import frozen_at, utcnow
from hotline.extensions import db, limiter
from hotline.notify.models import Notification
from hotline.sms.models import InboundSms, SmsOptOut
from hotline.sms.services import parse_rate_link, rate_link_token
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.services import apply_transition
from tests.factories import PASSWORD, PHONE
from tests.integration.sms_helpers import WEBHOOK_SECRET, signed_headers
from tests.integration.test_intake_web import appeal_form

URL = "/api/v1/sms/inbound"
OTHER = "13700001111"


@pytest.fixture(autouse=True)
def secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://12345.example.gov.cn")


def post(client, messages, headers=None):
    body = json.dumps({"messages": messages}, ensure_ascii=False).encode()
    return client.post(URL, data=body, headers=headers if headers is not None else signed_headers(body))


def sms(text, phone=PHONE, id_="m1"):
    return {"id": id_, "phone": phone, "text": text}


def sms_to(phone):
    return [
        (n.template, n.payload)
        for n in db.session.execute(
            select(Notification)
            .where(Notification.recipient == phone, Notification.channel == "sms")
            .order_by(Notification.id)
        ).scalars()
    ]


def events(ticket, action):
    return db.session.execute(select(TicketEvent).filter_by(ticket_id=ticket.id, action=action)).scalars().all()


def test_the_release_sms_invites_a_rating_with_a_signed_link(world):
    ticket = world.ticket_in("pending_callback")
    template, payload = sms_to(PHONE)[-1]
    assert template == "reply_released_rate"
    url = payload["rate_url"]
    assert url.startswith("https://12345.example.gov.cn/r/") and len(url) < 70
    link = parse_rate_link(url.rsplit("/", 1)[1])
    assert link is not None and link.ticket_id == ticket.id


@pytest.mark.parametrize(
    ("text", "satisfaction", "status"),
    [("1", "satisfied", "closed"), ("２", "basically", "closed"), (" 3。", "unsatisfied", "in_progress")],
)
def test_a_reply_rates_the_answer_as_the_web_does(client, world, text, satisfaction, status):
    ticket = world.ticket_in("pending_callback")
    response = post(client, [sms(text, phone="+86" + PHONE)])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcomes"] == ["rated"]
    db.session.refresh(ticket)
    assert (ticket.satisfaction, ticket.status, ticket.rated_via) == (satisfaction, status, "sms")
    assert ticket.redo_count == (1 if satisfaction == "unsatisfied" else 0)
    assert events(ticket, "rate_unsatisfied" if satisfaction == "unsatisfied" else "rate_satisfied")
    assert sms_to(PHONE)[-1] == ("sms_rated", {"tracking_no": ticket.tracking_no})


def test_a_repeated_webhook_changes_nothing(client, world):
    ticket = world.ticket_in("pending_callback")
    assert post(client, [sms("3")]).get_json()["outcomes"] == ["rated"]
    sent = len(sms_to(PHONE))
    assert post(client, [sms("3")]).get_json()["outcomes"] == ["duplicate"]
    db.session.refresh(ticket)
    assert ticket.redo_count == 1 and len(sms_to(PHONE)) == sent
    assert db.session.scalar(select(func.count()).select_from(InboundSms)) == 1


def test_two_released_answers_the_latest_is_rated(client, world):
    with frozen_at(utcnow() - timedelta(hours=3)):
        older = world.ticket_in("pending_callback")
    newer = world.ticket_in("pending_callback")
    assert post(client, [sms("1")]).get_json()["outcomes"] == ["rated"]
    db.session.refresh(older), db.session.refresh(newer)
    assert (newer.status, older.status) == ("closed", "pending_callback")
    assert post(client, [sms("2", id_="m2")]).get_json()["outcomes"] == ["rated"]
    db.session.refresh(older)
    assert (older.status, older.satisfaction) == ("closed", "basically")


def test_a_rating_with_nothing_to_rate_is_answered_and_changes_nothing(client, world):
    in_progress = world.ticket_in("in_progress")
    assert post(client, [sms("1")]).get_json()["outcomes"] == ["refused"]
    assert post(client, [sms("1", phone=OTHER, id_="m2")]).get_json()["outcomes"] == ["refused"]  # unknown phone
    db.session.refresh(in_progress)
    assert in_progress.status == "in_progress" and in_progress.satisfaction is None
    assert sms_to(OTHER)[-1][0] == "sms_nothing_to_rate"


def test_other_text_is_a_note_on_the_open_ticket_for_its_operator(client, world):
    ticket = world.ticket_in("in_progress")
    response = post(client, [sms("楼下的噪音今晚又开始了，请尽快处理")])
    assert response.get_json()["outcomes"] == ["noted"]
    (event,) = events(ticket, "citizen_sms")
    assert event.note == "楼下的噪音今晚又开始了，请尽快处理" and not event.public
    bell = db.session.execute(
        select(Notification).filter_by(template="citizen_sms", recipient_user_id=world.operator.id)
    ).scalar_one()
    assert bell.ticket_id == ticket.id and bell.channel == "in_app"
    assert sms_to(PHONE)[-1] == ("sms_noted", {"tracking_no": ticket.tracking_no})


def test_free_text_with_two_open_appeals_goes_to_the_most_recently_updated_and_tells_its_operator(client, world):
    """Neither appeal is released (nothing awaits a rating): the note goes to the open appeal that moved last,
    not the one filed last; the operator who took that one is told which it is, the other operator nothing."""
    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user

    other_operator = create_user(
        "operator2", PASSWORD, "operator2", org_unit=world.hotline, roles=[(Role.OPERATOR, world.city)]
    )
    with frozen_at(utcnow() - timedelta(hours=3)):
        older = world.ticket_in("dispatched")
    older.created_by_id = other_operator.id  # taken by the other operator
    with frozen_at(utcnow() - timedelta(hours=2)):
        newer = world.ticket_in("dispatched")
    with frozen_at(utcnow() - timedelta(hours=1)):
        apply_transition(older, "sign", world.district_handler)  # the older appeal moved last
    db.session.commit()

    assert post(client, [sms("师傅什么时候上门？")]).get_json()["outcomes"] == ["noted"]
    assert [e.note for e in events(older, "citizen_sms")] == ["师傅什么时候上门？"] and not events(newer, "citizen_sms")
    row = db.session.execute(select(InboundSms).filter_by(message_id="m1")).scalar_one()
    assert row.ticket_id == older.id
    bells = db.session.execute(select(Notification).filter_by(template="citizen_sms")).scalars().all()
    assert [(b.recipient_user_id, b.ticket_id, b.payload) for b in bells] == [
        (other_operator.id, older.id, {"tracking_no": older.tracking_no})
    ]
    assert sms_to(PHONE)[-1] == ("sms_noted", {"tracking_no": older.tracking_no})  # the citizen hears which, too

    apply_transition(newer, "sign", world.district_handler)  # now the newer one moved last
    db.session.commit()
    assert post(client, [sms("好的，谢谢", id_="m2")]).get_json()["outcomes"] == ["noted"]
    assert [e.note for e in events(newer, "citizen_sms")] == ["好的，谢谢"]
    bell = db.session.execute(
        select(Notification).filter_by(template="citizen_sms", recipient_user_id=world.operator.id)
    ).scalar_one()
    assert bell.ticket_id == newer.id and bell.payload == {"tracking_no": newer.tracking_no}


def test_text_from_a_phone_with_no_open_appeal_waits_as_a_draft(client, world):
    world.ticket_in("closed")
    assert post(client, [sms("小区门口路灯坏了一个星期", phone=OTHER)]).get_json()["outcomes"] == ["drafted"]
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.citizen_phone == OTHER)) == 0
    assert sms_to(OTHER)[-1][0] == "sms_drafted"


def test_td_opts_out_of_the_rating_invitation_only(client, world):
    assert post(client, [sms("td")]).get_json()["outcomes"] == ["opted_out"]
    assert post(client, [sms("退订", id_="m2")]).get_json()["outcomes"] == ["opted_out"]
    assert db.session.get(SmsOptOut, PHONE) is not None
    world.ticket_in("pending_callback")
    assert sms_to(PHONE)[-1] == ("reply_released", {"tracking_no": sms_to(PHONE)[-1][1]["tracking_no"]})
    assert [t for t, _ in sms_to(PHONE)].count("sms_opted_out") == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b'{"messages": "1"}', "messages"),
        (json.dumps({"messages": [{"phone": PHONE, "text": "1"}]}).encode(), "messages.id"),
    ],
)
def test_garbage_is_refused_naming_the_field(client, world, body, field):
    ticket = world.ticket_in("pending_callback")
    response = client.post(URL, data=body, headers=signed_headers(body))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    db.session.refresh(ticket)
    assert ticket.status == "pending_callback"
    assert db.session.scalar(select(func.count()).select_from(InboundSms)) == 0


def test_bad_phone_or_empty_text_is_kept_but_does_nothing(client, world):
    outcomes = post(client, [sms("1", phone="12345", id_="a"), sms("   ", id_="b")]).get_json()["outcomes"]
    assert outcomes == ["ignored", "ignored"]
    assert sms_to("12345") == [] and sms_to(PHONE) == []


@pytest.mark.parametrize("how", ["unsigned", "wrong secret", "stale", "tampered"])
def test_an_unsigned_or_forged_webhook_is_refused(client, world, how):
    ticket = world.ticket_in("pending_callback")
    body = json.dumps({"messages": [sms("3")]}).encode()
    headers = {
        "unsigned": {"Content-Type": "application/json"},
        "wrong secret": signed_headers(body, secret="not-ours"),
        "stale": signed_headers(body, at=datetime.now().timestamp() - 600),
        "tampered": signed_headers(json.dumps({"messages": [sms("1")]}).encode()),
    }[how]
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"]
    db.session.refresh(ticket)
    assert ticket.redo_count == 0 and ticket.status == "pending_callback"


def test_aliyun_smsup_push_is_understood(client, world, monkeypatch, app):
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "aliyun")
    for name, value in {
        "SMS_ALIYUN_ACCESS_KEY_ID": "id",
        "SMS_ALIYUN_ACCESS_KEY_SECRET": "secret",
        "SMS_ALIYUN_SIGN_NAME": "12345",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    ticket = world.ticket_in("pending_callback")
    item = {
        "phone_number": PHONE,
        "send_time": "2026-12-07 10:00:00",
        "content": "1",
        "sign_name": "12345",
        "dest_code": "1234",
        "sequence_id": 987654321,
    }
    body = json.dumps([item]).encode()
    assert client.post(URL, data=body, headers=signed_headers(body)).get_json()["outcomes"] == ["rated"]
    db.session.refresh(ticket)
    assert ticket.status == "closed"


# --- the signed link ----------------------------------------------------------------------------------------


def link_of(phone=PHONE):
    return sms_to(phone)[-1][1]["rate_url"].replace("https://12345.example.gov.cn", "")


def test_the_link_opens_the_rating_without_the_phone_and_is_used_once(client, world):
    limiter.enabled = False
    try:
        ticket = world.ticket_in("pending_callback")
        path = link_of()
        opened = client.get(path)
        assert opened.status_code == 302 and opened.location.endswith(f"/track/{ticket.tracking_no}")
        db.session.refresh(ticket)
        assert ticket.status == "pending_callback"  # opening the link rates nothing
        page = client.get(opened.location)
        assert page.status_code == 200 and "satisfaction" in page.get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        rated = client.post(opened.location, data={"csrf_token": token, "satisfaction": "basically"})
        assert rated.status_code == 302
        db.session.refresh(ticket)
        assert (ticket.status, ticket.satisfaction, ticket.rated_via) == ("closed", "basically", "link")
        again = client.get(path)
        assert again.status_code == 302 and again.location.endswith("/track")
    finally:
        limiter.enabled = True


def test_a_redone_answer_makes_the_old_link_useless(client, world):
    ticket = world.ticket_in("pending_callback")
    path = link_of()
    apply_transition(ticket, "rate_unsatisfied", world.operator)
    apply_transition(ticket, "reply", world.district_handler, body="重新处理完毕")
    apply_transition(ticket, "approve_reply", world.dispatcher)
    db.session.commit()
    assert client.get(path).location.endswith("/track")
    assert client.get(link_of()).location.endswith(f"/track/{ticket.tracking_no}")


def test_a_forged_mangled_or_expired_link_opens_nothing(client, world, app):
    ticket = world.ticket_in("pending_callback")
    path = link_of()
    forged = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    other_ticket = path.replace(f"/r/{ticket.id:x}.", f"/r/{ticket.id + 1:x}.")
    for bad in (forged, other_ticket, "/r/x", "/r/" + "a." * 40):
        assert client.get(bad).location.endswith("/track"), bad
    reply_id = int(path.split("/r/")[1].split(".")[1], 16)
    with app.test_request_context():
        old = rate_link_token(ticket.id, reply_id, now=utcnow() - timedelta(days=8))
        assert parse_rate_link(old) is None
    assert client.get("/r/" + old).location.endswith("/track")


# --- drafts: the review queue and the console --------------------------------------------------------------


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def draft_from(client, text="小区门口路灯坏了一个星期", phone=OTHER, id_="d1"):
    assert post(client, [sms(text, phone=phone, id_=id_)]).get_json()["outcomes"] == ["drafted"]
    return db.session.execute(select(InboundSms).filter_by(message_id=id_)).scalar_one()


def test_an_operator_registers_a_draft_from_the_review_queue(client, world):
    draft = draft_from(client)
    login(client, "operator")
    queue = client.get("/console/review").get_data(as_text=True)
    assert "小区门口路灯坏了一个星期" in queue and f"/console/?sms={draft.id}" in queue
    console = client.get(f"/console/?sms={draft.id}").get_data(as_text=True)
    assert f'value="{OTHER}"' in console and "小区门口路灯坏了一个星期</textarea>" in console
    data = appeal_form(world, citizen_phone=OTHER, body=draft.text, sms_id=str(draft.id), outcome="register")
    assert client.post("/console/", data=data).status_code == 302
    ticket = db.session.execute(select(Ticket).where(Ticket.citizen_phone == OTHER)).scalar_one()
    db.session.refresh(draft)
    assert draft.ticket_id == ticket.id and draft.handled_by_id == world.operator.id
    assert "小区门口路灯坏了一个星期" not in client.get("/console/review").get_data(as_text=True)
    assert client.get(f"/console/?sms={draft.id}").get_data(as_text=True).count(OTHER) == 0  # used: no prefill


def test_a_draft_is_dismissed_once_and_only_by_an_operator(client, world):
    draft = draft_from(client)
    login(client, "dispatcher")
    assert client.post(f"/console/sms/{draft.id}/dismiss").status_code == 403
    client.post("/logout")
    login(client, "operator")
    assert client.post(f"/console/sms/{draft.id}/dismiss").status_code == 302
    db.session.refresh(draft)
    assert draft.handled_at is not None and draft.ticket_id is None
    assert client.post(f"/console/sms/{draft.id}/dismiss").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_console_error_keeps_the_draft_waiting(client, world):
    draft = draft_from(client)
    login(client, "operator")
    data = appeal_form(world, citizen_phone=OTHER, body="", sms_id=str(draft.id), outcome="register")
    assert client.post("/console/", data=data).status_code == 400
    db.session.refresh(draft)
    assert draft.handled_at is None


def test_an_operator_records_or_lifts_an_opt_out_from_the_command_line(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sms", "opt-out", "139 1234 5678"])
    assert result.exit_code == 0 and "opted out" in result.output
    assert db.session.get(SmsOptOut, PHONE).via == "operator"
    assert "already" in runner.invoke(args=["sms", "opt-out", PHONE]).output
    result = runner.invoke(args=["sms", "opt-in", PHONE])
    assert result.exit_code == 0 and db.session.get(SmsOptOut, PHONE) is None
    assert "had not opted out" in runner.invoke(args=["sms", "opt-in", PHONE]).output
    bad = runner.invoke(args=["sms", "opt-out", "12345"])
    assert bad.exit_code == 2 and "not a Chinese phone number" in bad.output
    actions = [e.action for e in db.session.execute(audit_entries(target=PHONE)).scalars()]
    assert sorted(actions) == ["sms.opt_in", "sms.opt_out"]


def test_the_ticket_page_says_how_the_rating_arrived(client, world):
    ticket = world.ticket_in("pending_callback")
    post(client, [sms("1")])
    login(client, "dispatcher")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert "满意" in page and "（短信回复评价）" in page
