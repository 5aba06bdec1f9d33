"""The citizen portal and the operator console: one intake, the same validation, whatever the door."""

import io
import re
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from hotline.core.storage import storage
from hotline.extensions import db
from hotline.tickets.models import Attachment, Ticket
from tests.factories import PASSWORD, PHONE


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def appeal_form(world, **overrides):
    data = {
        "appeal_type": "complaint",
        "category_id": str(world.category.id),
        "title": "楼道堆放杂物",
        "body": "三号楼楼道堆满杂物，存在消防隐患。",
        "district_id": str(world.district.id),
        "address": "东湖区人民路1号",
        "citizen_phone": "139 1234 5678",
        "citizen_name": "李娜",
    }
    data.update(overrides)
    return data


def tickets_count():
    return db.session.execute(select(func.count(Ticket.id))).scalar()


def test_citizen_files_an_appeal_with_photos_and_tracks_it(client, world):
    data = appeal_form(world)
    data["photos"] = [(io.BytesIO(png_bytes()), "a.png"), (io.BytesIO(png_bytes()), "b.png")]
    response = client.post("/appeal", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    tracking_no = re.search(r'data-testid="tracking-no">(\d{14})<', page).group(1)
    ticket = db.session.execute(select(Ticket).filter_by(tracking_no=tracking_no)).scalar_one()
    assert ticket.status == "pending_review" and ticket.channel == "web"
    assert ticket.citizen_phone == PHONE  # spaces normalised
    assert [a.content_type for a in db.session.execute(select(Attachment)).scalars()] == ["image/png"] * 2
    # a fresh browser looks it up with number + phone
    other = client.application.test_client()
    found = other.post("/track", data={"tracking_no": tracking_no, "phone": PHONE})
    assert found.status_code == 302
    track_page = other.get(found.headers["Location"]).get_data(as_text=True)
    assert "楼道堆放杂物" in track_page and "网上提交" in track_page


def test_invalid_appeal_shows_every_field_error_and_saves_nothing(client, world):
    data = appeal_form(world, title="", citizen_phone="12345", body="x" * 4001)
    response = client.post("/appeal", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "手机号" in page or "11" in page
    assert tickets_count() == 0


def test_photo_checked_by_content_not_by_name(client, world, app, tmp_path):
    data = appeal_form(world)
    data["photos"] = [(io.BytesIO(b"<?php echo 'x'; ?>" * 10), "evil.jpg")]
    response = client.post("/appeal", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "JPEG" in response.get_data(as_text=True)
    assert tickets_count() == 0
    assert db.session.execute(select(func.count(Attachment.id))).scalar() == 0


def test_too_many_or_too_large_photos_are_refused(client, world):
    data = appeal_form(world)
    data["photos"] = [(io.BytesIO(png_bytes()), f"{i}.png") for i in range(6)]
    assert client.post("/appeal", data=data, content_type="multipart/form-data").status_code == 400
    data = appeal_form(world)
    big = io.BytesIO(png_bytes() + b"\0" * (5 * 1024 * 1024))
    data["photos"] = [(big, "big.png")]
    assert client.post("/appeal", data=data, content_type="multipart/form-data").status_code == 400
    assert tickets_count() == 0


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height, with a few bytes of pixel data: what a decompression bomb
    looks like before decoding (a real 9000×9000 PNG of one colour is 250 KB)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(9000, 9000), (6000, 4001), (24_000_001, 1)])
def test_photos_over_the_pixel_limit_are_refused_before_decoding(client, world, monkeypatch, size):
    """Issue 28.4: the size in the header decides; no pixel of such an image is decoded or re-encoded."""
    from hotline.intake import services as intake

    monkeypatch.setattr(intake, "reencode_photo", lambda *a: pytest.fail("a refused photo was decoded"))
    data = appeal_form(world)
    data["photos"] = [(io.BytesIO(png_header_only(*size)), "bomb.png")]
    response = client.post("/appeal", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "24" in response.get_data(as_text=True) and tickets_count() == 0


def test_large_photos_are_stored_scaled_down_to_the_longest_side_limit(client, world):
    from hotline.intake.services import MAX_PHOTO_SIDE

    data = appeal_form(world)
    data["photos"] = [
        (io.BytesIO(png_bytes((6000, 4000))), "wide.png"),
        (io.BytesIO(jpeg_bytes((1200, 3000))), "tall.jpg"),
    ]
    assert client.post("/appeal", data=data, content_type="multipart/form-data").status_code == 302
    sizes = sorted(
        Image.open(io.BytesIO(storage().read(a.storage_key))).size
        for a in db.session.execute(select(Attachment)).scalars()
    )
    assert sizes == [(1024, MAX_PHOTO_SIDE), (MAX_PHOTO_SIDE, 1707)]


def jpeg_bytes(size) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_rollback_removes_stored_photos(app, world, monkeypatch):
    from hotline.core.storage import storage
    from hotline.intake.services import Photo, intake_appeal
    from tests.factories import appeal

    files = storage()
    ticket = intake_appeal(
        appeal(world), world.operator, "register", photos=[Photo("a.png", png_bytes(), "image/png", ".png")]
    )
    key = ticket.id and db.session.execute(select(Attachment.storage_key)).scalar()
    assert (files.root / key).exists()
    db.session.rollback()
    assert not (files.root / key).exists()


def test_wrong_phone_or_number_gets_one_neutral_message(client, world):
    ticket = world.ticket_in("pending_dispatch")
    wrong_phone = client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": "13000000000"})
    wrong_number = client.post("/track", data={"tracking_no": "20200101000001", "phone": PHONE})
    assert wrong_phone.status_code == wrong_number.status_code == 400
    message = "没有与该工单编号和手机号码匹配的诉求"
    assert message in wrong_phone.get_data(as_text=True) and message in wrong_number.get_data(as_text=True)
    assert client.get(f"/track/{ticket.tracking_no}").status_code == 302  # not proven: back to the form


def test_track_page_hides_internal_notes_and_staff_names(client, world):
    ticket = world.ticket_in("pending_callback")
    client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
    page = client.get(f"/track/{ticket.tracking_no}").get_data(as_text=True)
    assert "已处理完毕" in page  # the released answer
    assert "district_handler" not in page and "dispatcher" not in page


def test_citizen_rates_on_the_track_page(client, world):
    ticket = world.ticket_in("pending_callback")
    client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
    response = client.post(f"/track/{ticket.tracking_no}", data={"satisfaction": "basically", "comment": "还行"})
    assert response.status_code == 302
    db.session.expire_all()
    rated = db.session.get(Ticket, ticket.id)
    assert rated.status == "closed" and rated.satisfaction == "basically"


def test_unsatisfied_rating_reopens_for_redo(client, world):
    ticket = world.ticket_in("pending_callback")
    client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
    client.post(f"/track/{ticket.tracking_no}", data={"satisfaction": "unsatisfied"})
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "in_progress"


def session_of(app, client) -> dict:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return app.session_interface.get_signing_serializer(app).loads(cookie.value) if cookie else {}


def test_the_session_cookie_keeps_the_tracking_numbers_proven_never_the_phone(app, client, world):
    """Issue 28.8: the cookie is signed, not encrypted; anyone holding it could read what it carries."""
    first, second = world.ticket_in("pending_callback"), world.ticket_in("in_progress")
    for ticket in (first, second, first):
        assert client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE}).status_code == 302
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert PHONE not in str(session_of(app, client)) and PHONE[-4:] not in cookie
    assert session_of(app, client)["tracked"] == [second.tracking_no, first.tracking_no]
    assert client.get(f"/track/{second.tracking_no}").status_code == 200  # still opens without the phone
    assert client.post(f"/track/{first.tracking_no}", data={"satisfaction": "satisfied"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, first.id).status == "closed"
    other = world.ticket_in("in_progress")
    assert client.get(f"/track/{other.tracking_no}").status_code == 302  # not proven: back to the lookup


def test_a_cookie_from_before_keeps_its_proven_numbers(app, client, world):
    ticket = world.ticket_in("in_progress")
    with client.session_transaction() as old:
        old["tracked"] = {ticket.tracking_no: PHONE}
    assert client.get(f"/track/{ticket.tracking_no}").status_code == 200
    client.post("/track", data={"tracking_no": ticket.tracking_no, "phone": PHONE})
    assert session_of(app, client)["tracked"] == [ticket.tracking_no]


def test_tracking_is_rate_limited(client, world):
    for _ in range(10):
        client.post("/track", data={"tracking_no": "20200101000001", "phone": PHONE})
    assert client.post("/track", data={"tracking_no": "20200101000001", "phone": PHONE}).status_code == 429


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


@pytest.mark.parametrize(
    "outcome, note, status",
    [
        ("register", "", "pending_dispatch"),
        ("answer_directly", "已告知办理流程。", "answered_directly"),
        ("refuse", "属于诉讼事项，请通过法院解决。", "not_accepted"),
        ("transfer_emergency", "有人持刀斗殴，已三方转接。", "transferred"),
    ],
)
def test_operator_registers_each_outcome(client, world, outcome, note, status):
    login(client, "operator")
    data = appeal_form(world, outcome=outcome, note=note, urgency="normal", emergency_line="110")
    response = client.post("/console/", data=data)
    assert response.status_code == 302
    ticket = db.session.execute(select(Ticket)).scalar_one()
    assert ticket.status == status and ticket.channel == "phone"
    if outcome == "transfer_emergency":
        assert ticket.events[-1].note.startswith("[110]")


def test_operator_outcome_without_reason_is_refused(client, world):
    login(client, "operator")
    response = client.post("/console/", data=appeal_form(world, outcome="refuse", note="", urgency="normal"))
    assert response.status_code == 400 and tickets_count() == 0


def test_console_is_for_operators_only(client, world):
    login(client, "district_handler")
    assert client.get("/console/").status_code == 403


def test_caller_history_and_duplicate_hints(client, world):
    earlier = world.ticket_in("in_progress")
    login(client, "operator")
    fragment = client.get(f"/console/caller?phone={PHONE}").get_data(as_text=True)
    assert earlier.tracking_no in fragment and 'data-testid="duplicate-hints"' not in fragment  # history only
    other = client.get("/console/caller?phone=13000000000").get_data(as_text=True)
    assert earlier.tracking_no not in other

    def hints(**args):
        page = client.get("/search/assist", query_string=args).get_data(as_text=True)
        return page.split('data-testid="duplicate-hints"')[1].split("</ul>")[0]

    same = hints(phone=PHONE, category_id=world.category.id, address="东湖区人民路1号阳光花园")
    assert same.count("<li") == 1 and same.count(earlier.tracking_no) == 2  # one row: the link and its text
    assert "同一来电人、同一地址和分类" in same  # one badge: the caller, the address and its category
    # another caller, the same address and category: a hint too, saying why
    same_place = hints(phone="13000000000", category_id=world.category.id, address="东湖区人民路1号阳光花园")
    assert earlier.tracking_no in same_place and "同一地址和分类" in same_place and "同一来电人" not in same_place


def test_review_queue_accepts_web_appeals(client, world):
    waiting = world.ticket_in("pending_review")
    login(client, "operator")
    assert waiting.tracking_no in client.get("/console/review").get_data(as_text=True)
    response = client.post(
        f"/tickets/{waiting.tracking_no}/actions/accept", data={"version": waiting.version, "next": "review"}
    )
    assert response.headers["Location"].endswith("/console/review")
    db.session.expire_all()
    assert db.session.get(Ticket, waiting.id).status == "pending_dispatch"


def test_staff_see_photos_other_units_do_not(client, world):
    from hotline.intake.services import Photo, intake_appeal
    from hotline.tickets.services import apply_transition
    from tests.factories import appeal

    ticket = intake_appeal(
        appeal(world), world.operator, "register", photos=[Photo("a.png", png_bytes(), "image/png", ".png")]
    )
    apply_transition(ticket, "dispatch", world.dispatcher, lead_unit=world.district)
    db.session.commit()
    attachment_id = ticket.attachments[0].id
    url = f"/tickets/{ticket.tracking_no}/attachments/{attachment_id}"
    login(client, "district_handler")
    assert url in client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    photo = client.get(url)
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/tickets/{ticket.tracking_no}/attachments/{attachment_id + 99}").status_code == 404
    client.post("/logout")
    login(client, "outsider")
    assert client.get(url).status_code == 404


def test_map_only_with_the_citys_own_tile_server(client, world, app):
    page = client.get("/appeal").get_data(as_text=True)
    assert 'id="map"' not in page and "leaflet" not in page
    app.config["MAP_TILE_URL"] = "/tiles/{z}/{x}/{y}.png"
    try:
        page = client.get("/appeal").get_data(as_text=True)
    finally:
        app.config["MAP_TILE_URL"] = None
    assert 'id="map"' in page and 'data-tiles="/tiles/{z}/{x}/{y}.png"' in page
    assert "/static/vendor/leaflet/leaflet.js" in page and "http" not in page.split('id="map"')[1].split(">")[0]
