"""Issue 21.2: nobody is stranded on the citizen side — the bare address, a shared tracking link, the pending
and redo pages, and a lost tracking number."""

import io
import re
from datetime import datetime

from sqlalchemy import select

from hotline.core.clock import frozen_at, to_local
from hotline.extensions import db, limiter
from hotline.notify.models import Notification
from hotline.public.services import expected_answer
from hotline.sla import deadlines as sla_deadlines
from hotline.sla import policy as sla_policy
from hotline.tickets.models import Ticket
from tests.factories import PHONE
from tests.integration.test_intake_web import appeal_form, png_bytes


def file_appeal(client, world, photos=1):
    data = appeal_form(world, title="楼道灯坏了", body="三号楼二单元楼道灯坏了两周，晚上很黑。")
    data["photos"] = [(io.BytesIO(png_bytes()), f"p{i}.png") for i in range(photos)]
    response = client.post("/appeal", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    return db.session.execute(select(Ticket).order_by(Ticket.id.desc())).scalars().first()


def test_the_bare_address_sends_a_signed_out_visitor_to_the_portal(client, world):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal")
    portal = client.get("/portal").get_data(as_text=True)
    assert "/appeal" in portal and "/track" in portal and "/login" in portal


def test_a_tracking_link_in_a_new_browser_keeps_the_number_in_the_form(client, world):
    ticket = world.ticket_in("in_progress")
    response = client.get(f"/track/{ticket.tracking_no}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/track?no={ticket.tracking_no}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'name="tracking_no"[^>]*value="{ticket.tracking_no}"', page)
    assert " autofocus " in re.search(r'<input[^>]*name="phone"[^>]*>', page).group(0)  # what is left to type
    # nothing but a 14-digit number is carried into the form
    assert client.get("/track/abc").headers["Location"].endswith("/track")
    assert 'value="abc' not in client.get("/track?no=abc<b>").get_data(as_text=True)


def test_the_lookup_forms_mark_required_fields_and_use_hints_not_sample_values(client, world):
    for url in ("/track", "/appeal", "/track/forgot"):
        page = client.get(url).get_data(as_text=True)
        assert "13800138000" not in page and "20261128000001" not in page
        assert 'aria-required="true"' in page and 'class="required-mark"' in page
    track = client.get("/track").get_data(as_text=True)
    assert track.count('aria-required="true"') == 2
    appeal = client.get("/appeal").get_data(as_text=True)
    for name in ("title", "body", "citizen_phone"):
        assert re.search(
            rf'<(input|textarea)[^>]*aria-required="true"[^>]*name="{name}"|'
            rf'<(input|textarea)[^>]*name="{name}"[^>]*aria-required="true"',
            appeal,
        ), name
    assert not re.search(r'<input[^>]*name="citizen_name"[^>]*aria-required', appeal)  # optional stays unmarked
    assert "11位手机号" in appeal


def test_the_pending_page_shows_the_citizens_text_photos_and_an_estimated_date(client, world):
    with frozen_at(datetime(2026, 11, 23, 2, 0)):  # Monday 10:00 in Shanghai
        ticket = file_appeal(client, world, photos=2)
        page = client.get(f"/track/{ticket.tracking_no}").get_data(as_text=True)
        expected = expected_answer(ticket)
    assert ticket.status == "pending_review"
    assert "三号楼二单元楼道灯坏了两周" in page
    photos = re.findall(rf'src="(/track/{ticket.tracking_no}/photos/\d+)"', page)
    assert len(photos) == 2
    assert client.get(photos[0]).status_code == 200 and client.get(photos[0]).mimetype == "image/png"
    # the SLA policy's answer limit, counted from now, and said to be an estimate
    policy = sla_policy.policy_for(ticket.appeal_type, ticket.urgency)
    with frozen_at(datetime(2026, 11, 23, 2, 0)):
        due = sla_deadlines.deadline_after(datetime(2026, 11, 23, 2, 0), policy["answer_limit"], policy["answer_unit"])
    assert expected.estimated and expected.day == to_local(due.at).date()
    assert f'datetime="{expected.day.isoformat()}"' in page and "预计答复日期（估算）" in page
    assert PHONE not in page and "李娜" not in page  # no personal data on the page


def test_photos_only_of_a_proven_appeal(client, world):
    ticket = file_appeal(client, world)
    photo_id = ticket.attachments[0].id
    stranger = client.application.test_client()
    assert stranger.get(f"/track/{ticket.tracking_no}/photos/{photo_id}").status_code == 404
    other = world.ticket_in("in_progress")
    assert client.get(f"/track/{other.tracking_no}/photos/{photo_id}").status_code == 404


def test_a_dispatched_appeal_shows_its_answer_deadline_as_the_date(client, world):
    ticket = world.ticket_in("in_progress")
    client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
    page = client.get(f"/track/{ticket.tracking_no}").get_data(as_text=True)
    day = to_local(ticket.answer_deadline_at).date().isoformat()
    assert f'datetime="{day}"' in page and "预计答复日期：" in page and "估算" not in page


def test_after_a_redo_the_page_shows_the_new_date_and_the_earlier_answer_as_not_accepted(client, world):
    ticket = world.ticket_in("pending_callback")
    client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
    assert client.post(f"/track/{ticket.tracking_no}", data={"satisfaction": "unsatisfied"}).status_code == 302
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    page = client.get(f"/track/{ticket.tracking_no}").get_data(as_text=True)
    assert ticket.status == "in_progress"
    assert "新的预计答复日期" in page
    assert f'datetime="{to_local(ticket.answer_deadline_at).date().isoformat()}"' in page
    assert 'data-testid="answer-not-accepted"' in page and "此前答复，未获认可" in page
    assert "承办单位正在重新办理" in page


def test_the_rating_choice_is_marked_required(client, world):
    ticket = world.ticket_in("pending_callback")
    client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
    page = client.get(f"/track/{ticket.tracking_no}").get_data(as_text=True)
    assert re.search(r'<fieldset[^>]*role="radiogroup" aria-required="true"', page)


def sms_to(phone):
    return list(
        db.session.execute(
            select(Notification).where(Notification.channel == "sms", Notification.recipient == phone)
        ).scalars()
    )


def test_a_forgotten_tracking_number_goes_by_sms_and_the_page_reveals_nothing(client, world):
    first, second = world.ticket_in("in_progress"), world.ticket_in("pending_callback")
    before = len(sms_to(PHONE))
    known = client.post("/track/forgot", data={"phone": "139 1234 5678"})
    unknown = client.application.test_client().post("/track/forgot", data={"phone": "13711112222"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'name="csrf_token"[^>]*', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(known) == strip(unknown)  # the same page whether or not the phone has appeals
    assert first.tracking_no not in strip(known)
    sent = sms_to(PHONE)
    assert len(sent) == before + 1 and sent[-1].template == "tracking_numbers"
    assert first.tracking_no in sent[-1].payload["numbers"] and second.tracking_no in sent[-1].payload["numbers"]
    assert sms_to("13711112222") == []
    from hotline.notify.templates import render

    assert second.tracking_no in render("tracking_numbers", sent[-1].payload)[1]


def test_forgot_refuses_a_malformed_phone_and_sends_nothing(client, world):
    response = client.post("/track/forgot", data={"phone": "12345"})
    assert response.status_code == 400 and "11位手机号码" in response.get_data(as_text=True)
    assert db.session.execute(select(Notification).where(Notification.channel == "sms")).first() is None


def test_forgot_is_throttled_per_phone_and_per_address(app, client, world):
    limiter.reset()
    for i in range(3):
        other = app.test_client()
        assert other.post("/track/forgot", data={"phone": PHONE}).status_code == 200, i
    assert app.test_client().post("/track/forgot", data={"phone": PHONE}).status_code == 429  # per phone
    limiter.reset()
    for i in range(5):
        assert client.post("/track/forgot", data={"phone": f"1391234560{i}"}).status_code == 200
    assert client.post("/track/forgot", data={"phone": "13912345609"}).status_code == 429  # per address
