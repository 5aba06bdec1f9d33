"""POST/GET /api/v1/tickets and /api/v1/track: intake by every kind of caller, scoping, masking, filters."""

import base64
import io

import pytest
from sqlalchemy import func, select

from hotline.api.models import ApiSubmission
from hotline.extensions import db, limiter
from hotline.intake.services import reencode_photo
from hotline.tickets.models import Attachment, Ticket
from tests.factories import PHONE
from tests.integration.api_helpers import appeal_json, assert_error, new_key, png_b64, png_bytes, token_for


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# --- creating -----------------------------------------------------------------------------------------------


def test_anonymous_appeal_waits_for_review_with_masked_phone(client, world):
    response = client.post("/api/v1/tickets", json=appeal_json(world))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["status"] == "pending_review" and data["channel"] == "api"
    assert data["citizen_phone"] == "139****5678"
    assert response.headers["Location"].endswith(f"/api/v1/tickets/{data['tracking_no']}")
    assert "events" not in data  # the full record is behind Location
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert (
        ticket.channel == "api" and ticket.category_id == world.category.id and ticket.district_id == world.district.id
    )


def test_partner_key_appeal_is_recorded_for_the_key(client, world):
    key, headers = new_key()
    response = client.post("/api/v1/tickets", json=appeal_json(world), headers=headers)
    assert response.status_code == 201
    assert response.get_json()["status"] == "pending_review"
    submission = db.session.execute(select(ApiSubmission)).scalar_one()
    assert submission.api_key_id == key.id


def test_operator_registers_directly_and_sees_the_full_phone(client, world):
    headers = token_for(world.operator)
    data = client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).get_json()
    assert data["status"] == "pending_dispatch" and data["citizen_phone"] == PHONE
    full = client.get(f"/api/v1/tickets/{data['tracking_no']}", headers=headers).get_json()
    assert full["events"][0]["actor"] == "operator"
    review = client.post("/api/v1/tickets", json=appeal_json(world, outcome="submit"), headers=headers).get_json()
    assert review["status"] == "pending_review"


def test_non_operators_may_not_register(client, world):
    assert_error(client.post("/api/v1/tickets", json=appeal_json(world, outcome="register")), 403, "forbidden")
    assert_error(
        client.post("/api/v1/tickets", json=appeal_json(world), headers=token_for(world.district_handler)),
        403,
        "forbidden",
    )
    assert count(Ticket) == 0


def test_every_bad_field_is_reported_at_once(client, world):
    error = assert_error(
        client.post("/api/v1/tickets", json={"title": "x" * 101}),
        422,
        "validation_failed",
        fields=["appeal_type", "body", "citizen_phone", "title"],
    )
    assert error["fields"]["appeal_type"] == "此项为必填项。"
    error = assert_error(
        client.post(
            "/api/v1/tickets",
            json=appeal_json(world, citizen_phone="12345", category_code="9999", district_code="nowhere"),
        ),
        422,
        "validation_failed",
        fields=["citizen_phone", "category_code", "district_code"],
    )
    assert count(Ticket) == 0


def test_unknown_fields_and_wrong_types_are_422(client, world):
    assert_error(
        client.post("/api/v1/tickets", json=appeal_json(world, colour="red")),
        422,
        "validation_failed",
        fields=["colour"],
    )
    assert_error(
        client.post("/api/v1/tickets", json=appeal_json(world, lat="north", lon=200)),
        422,
        "validation_failed",
        fields=["lat", "lon"],
    )


def test_malformed_json_is_400_and_other_media_415(client, world):
    assert_error(client.post("/api/v1/tickets", data="{not json", content_type="application/json"), 400, "bad_request")
    assert_error(client.post("/api/v1/tickets", json=["a", "list"]), 400, "bad_request")
    assert_error(
        client.post("/api/v1/tickets", data="title=x", content_type="text/plain"), 415, "unsupported_media_type"
    )


def test_base64_photos_are_stored_with_the_ticket(client, world):
    response = client.post(
        "/api/v1/tickets", json=appeal_json(world, photos=[{"filename": "a.png", "data": png_b64()}])
    )
    assert response.status_code == 201
    full = client.get(response.headers["Location"], headers=token_for(world.operator)).get_json()
    assert full["attachments"] == [
        {"filename": "a.png", "content_type": "image/png", "size": len(reencode_photo(png_bytes(), "PNG"))}
    ]  # re-encoded


def test_a_bad_photo_saves_nothing(client, world):
    fake = base64.b64encode(b"<html>not an image</html>").decode()
    error = assert_error(
        client.post(
            "/api/v1/tickets",
            json=appeal_json(
                world, photos=[{"filename": "ok.png", "data": png_b64()}, {"filename": "evil.png", "data": fake}]
            ),
        ),
        422,
        "validation_failed",
        fields=["photos.1"],
    )
    assert "photos.0" not in error["fields"]
    assert_error(
        client.post("/api/v1/tickets", json=appeal_json(world, photos=[{"data": "@@@"}])),
        422,
        "validation_failed",
        fields=["photos.0"],
    )
    assert count(Ticket) == 0 and count(Attachment) == 0


def test_multipart_with_photo_files(client, world):
    form = {k: v for k, v in appeal_json(world).items()}
    form["photos"] = [(io.BytesIO(png_bytes()), "street.png")]
    response = client.post("/api/v1/tickets", data=form, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    full = client.get(response.headers["Location"], headers=token_for(world.operator)).get_json()
    assert full["attachments"][0]["filename"] == "street.png"
    form = dict(appeal_json(world), photos=[(io.BytesIO(png_bytes()), f"{i}.png") for i in range(6)])
    assert_error(
        client.post("/api/v1/tickets", data=form, content_type="multipart/form-data"),
        422,
        "validation_failed",
        fields=["photos"],
    )
    form = dict(appeal_json(world), confidential="maybe")
    assert_error(
        client.post("/api/v1/tickets", data=form, content_type="multipart/form-data"),
        422,
        "validation_failed",
        fields=["confidential"],
    )


def test_oversized_body_is_refused_with_413(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    big = appeal_json(world, photos=[{"filename": "big.png", "data": "A" * 4000}])
    assert_error(client.post("/api/v1/tickets", json=big), 413, "payload_too_large")
    form = dict(appeal_json(world), photos=[(io.BytesIO(b"x" * 5000), "big.png")])
    assert_error(
        client.post("/api/v1/tickets", data=form, content_type="multipart/form-data"), 413, "payload_too_large"
    )
    assert count(Ticket) == 0


def test_anonymous_intake_is_rate_limited_but_keys_are_not(client, world):
    _, headers = new_key()
    for _ in range(10):
        assert client.post("/api/v1/tickets", json=appeal_json(world)).status_code == 201
    assert_error(client.post("/api/v1/tickets", json=appeal_json(world)), 429, "rate_limited")
    assert client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).status_code == 201


# --- reading ------------------------------------------------------------------------------------------------


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {t["tracking_no"] for t in response.get_json()["items"]}


def test_lists_are_scoped_to_the_caller(client, world):
    in_district = world.ticket_in("in_progress")
    waiting = world.ticket_in("pending_dispatch")
    assert numbers(client.get("/api/v1/tickets", headers=token_for(world.dispatcher))) == {
        in_district.tracking_no,
        waiting.tracking_no,
    }
    assert numbers(client.get("/api/v1/tickets", headers=token_for(world.district_handler))) == {
        in_district.tracking_no
    }
    assert numbers(client.get("/api/v1/tickets", headers=token_for(world.outsider))) == set()
    _, headers = new_key()
    own = client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).get_json()["tracking_no"]
    assert numbers(client.get("/api/v1/tickets", headers=headers)) == {own}


def test_phones_are_masked_outside_the_hotline(client, world):
    world.ticket_in("in_progress")
    item = client.get("/api/v1/tickets", headers=token_for(world.district_handler)).get_json()["items"][0]
    assert item["citizen_phone"] == "139****5678" and item["citizen_name"] == "张伟"
    item = client.get("/api/v1/tickets", headers=token_for(world.dispatcher)).get_json()["items"][0]
    assert item["citizen_phone"] == PHONE


def test_confidential_caller_is_hidden_outside_the_hotline(client, world):
    ticket = world.ticket_in("in_progress", appeal_type="report", confidential=True)
    data = client.get(f"/api/v1/tickets/{ticket.tracking_no}", headers=token_for(world.district_handler)).get_json()
    assert data["confidential"] and data["citizen_name"] is None and data["citizen_phone"] is None
    assert PHONE[-4:] not in str(data)
    data = client.get(f"/api/v1/tickets/{ticket.tracking_no}", headers=token_for(world.supervisor)).get_json()
    assert data["citizen_name"] == "张伟" and data["citizen_phone"] == PHONE


def test_filters_and_pagination(client, world):
    from hotline.tickets.models import Category

    other = Category(code="0502", name="房屋维修", parent=world.parent_category)
    db.session.add(other)
    db.session.commit()
    a = world.ticket_in("in_progress")
    b = world.ticket_in("pending_dispatch", category_id=other.id)
    c = world.ticket_in("pending_dispatch")
    headers = token_for(world.dispatcher)
    get = lambda query: numbers(client.get(f"/api/v1/tickets?{query}", headers=headers))  # noqa: E731
    assert get("status=pending_dispatch") == {b.tracking_no, c.tracking_no}
    assert get("category=0502") == {b.tracking_no}
    assert get("category=05") == {a.tracking_no, b.tracking_no, c.tracking_no}
    assert get("unit=d1") == {a.tracking_no}
    assert get("unit=d2") == set()
    today = a.tracking_no[:8]
    day = f"{today[:4]}-{today[4:6]}-{today[6:]}"
    assert get(f"from={day}&to={day}") == {a.tracking_no, b.tracking_no, c.tracking_no}
    assert get("to=2000-01-01") == set() and get("from=2999-01-01") == set()
    page = client.get("/api/v1/tickets?per_page=2&page=1", headers=headers).get_json()
    assert page["total"] == 3 and page["pages"] == 2 and len(page["items"]) == 2
    assert page["items"][0]["tracking_no"] == c.tracking_no  # newest first
    last = client.get("/api/v1/tickets?per_page=2&page=2", headers=headers).get_json()
    assert [t["tracking_no"] for t in last["items"]] == [a.tracking_no]


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=lost", "status"),
        ("from=yesterday", "from"),
        ("per_page=1000", "per_page"),
        ("unit=nowhere", "unit"),
        ("category=99", "category"),
        ("from=2026-02-02&to=2026-01-01", "from"),
    ],
)
def test_bad_filters_are_422(client, world, query, field):
    assert_error(
        client.get(f"/api/v1/tickets?{query}", headers=token_for(world.dispatcher)),
        422,
        "validation_failed",
        fields=[field],
    )


def test_detail_with_events_and_not_found_for_others(client, world):
    ticket = world.ticket_in("in_progress")
    data = client.get(f"/api/v1/tickets/{ticket.tracking_no}", headers=token_for(world.dispatcher)).get_json()
    assert [e["action"] for e in data["events"]] == ["register", "dispatch", "sign"]
    assert data["events"][1]["actor"] == "dispatcher" and data["lead_unit"]["code"] == "d1"
    other = assert_error(
        client.get(f"/api/v1/tickets/{ticket.tracking_no}", headers=token_for(world.outsider)), 404, "not_found"
    )
    missing = assert_error(
        client.get("/api/v1/tickets/20990101000001", headers=token_for(world.outsider)), 404, "not_found"
    )
    assert other["message"].replace(ticket.tracking_no, "N") == missing["message"].replace("20990101000001", "N")
    _, headers = new_key()
    assert_error(client.get(f"/api/v1/tickets/{ticket.tracking_no}", headers=headers), 404, "not_found")


def test_partner_sees_only_the_public_timeline_of_its_appeals(client, world):
    _, headers = new_key()
    no = client.post("/api/v1/tickets", json=appeal_json(world), headers=headers).get_json()["tracking_no"]
    data = client.get(f"/api/v1/tickets/{no}", headers=headers).get_json()
    assert data["citizen_phone"] == "139****5678"
    assert all(e.get("actor") is None and e.get("note") is None for e in data["events"])


# --- the citizen's view -------------------------------------------------------------------------------------


def test_track_shows_the_public_timeline_and_released_answer(client, world):
    ticket = world.ticket_in("pending_callback")
    response = client.get(f"/api/v1/track?tracking_no={ticket.tracking_no}&phone={PHONE}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["answer"]["body"] == "已处理完毕" and data["awaiting_rating"] is True
    actions = [e["action"] for e in data["timeline"]]
    assert "reply" not in actions and {"register", "dispatch", "sign", "approve_reply"} <= set(actions)
    text = response.get_data(as_text=True)
    for staff in ("operator", "dispatcher", "district_handler", "张伟"):
        assert staff not in text


def test_track_answer_only_once_approved(client, world):
    ticket = world.ticket_in("replied")
    data = client.get(f"/api/v1/track?tracking_no={ticket.tracking_no}&phone={PHONE}").get_json()
    assert data["answer"] is None and data["status"] == "replied"


def test_track_gives_one_neutral_message_and_limits_attempts(client, world):
    ticket = world.ticket_in("pending_dispatch")
    wrong_phone = assert_error(
        client.get(f"/api/v1/track?tracking_no={ticket.tracking_no}&phone=13800000000"), 404, "not_found"
    )
    wrong_number = assert_error(client.get(f"/api/v1/track?tracking_no=20990101000001&phone={PHONE}"), 404, "not_found")
    assert wrong_phone == wrong_number
    assert_error(client.get("/api/v1/track?tracking_no=1"), 422, "validation_failed", fields=["phone"])
    for _ in range(8):
        client.get(f"/api/v1/track?tracking_no={ticket.tracking_no}&phone=13800000000")
    response = client.get(f"/api/v1/track?tracking_no={ticket.tracking_no}&phone={PHONE}")
    assert_error(response, 429, "rate_limited")
