"""Hostile content (issue 9): markup in every text field is shown escaped; photos are re-encoded and served
as inert downloads; no unit reads another unit's tickets through ids, search, exports or attachments."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from flask import g
from PIL import Image

from hotline.extensions import db
from hotline.tickets.models import Attachment, Ticket
from tests.factories import PASSWORD, PHONE

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)><b>粗</b>'
RAW_MARKERS = ("<script>alert", "<img src=x", "<b>粗</b>")


def login(client, username):
    g.pop("_login_user", None)
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def page(client, path) -> str:
    g.pop("_login_user", None)
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def assert_escaped(html: str, where: str):
    for marker in RAW_MARKERS:
        assert marker not in html, f"unescaped markup on {where}: {marker}"


def png(extra: bytes = b"", exif: bool = False, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (16, 12), (30, 120, 200))
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {2: (30.0, 35.0, 0.0)}  # GPS latitude
        image.save(out, kind, exif=data)
    else:
        image.save(out, kind)
    return out.getvalue() + extra


def test_markup_in_every_text_field_is_shown_escaped(app, world):
    public, operator = app.test_client(), login(app.test_client(), "operator")
    form = {
        "appeal_type": "complaint",
        "category_id": str(world.category.id),
        "district_id": str(world.district.id),
        "citizen_phone": PHONE,
        "citizen_name": PAYLOAD[:30],
        "title": PAYLOAD[:60],
        "body": PAYLOAD,
        "address": PAYLOAD[:60],
    }
    assert public.post("/appeal", data=form).status_code == 302
    assert operator.post(
        "/console/", data={**form, "outcome": "register", "urgency": "normal", "note": PAYLOAD}
    ).status_code in (200, 302)
    token = (
        app.test_client()
        .post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD})
        .get_json()["access_token"]
    )
    api = app.test_client().post(
        "/api/v1/tickets",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "appeal_type": "complaint",
            "title": PAYLOAD[:60],
            "body": PAYLOAD,
            "citizen_phone": PHONE,
            "citizen_name": PAYLOAD[:30],
            "address": PAYLOAD[:60],
            "outcome": "register",
        },
    )
    assert api.status_code == 201, api.get_json()
    ticket = world.ticket_in("in_progress", title=PAYLOAD[:60], body=PAYLOAD, address=PAYLOAD[:60])
    handler = login(app.test_client(), "district_handler")
    g.pop("_login_user", None)
    assert handler.post(f"/tickets/{ticket.tracking_no}/note", data={"note": PAYLOAD}).status_code == 302
    admin = login(app.test_client(), "admin")
    g.pop("_login_user", None)
    assert admin.post("/admin/canned", data={"title": PAYLOAD[:60], "body": PAYLOAD}).status_code == 302
    db.session.expire_all()
    g.pop("_login_user", None)
    assert (
        handler.post(
            f"/tickets/{ticket.tracking_no}/actions/reply", data={"body": PAYLOAD, "version": ticket.version}
        ).status_code
        == 302
    )
    returned = world.ticket_in("dispatched")
    g.pop("_login_user", None)
    assert (
        handler.post(
            f"/tickets/{returned.tracking_no}/actions/request_return",
            data={"note": PAYLOAD, "version": returned.version},
        ).status_code
        == 302
    )
    stored = db.session.execute(sa.select(sa.func.count(Ticket.id)).where(Ticket.body == PAYLOAD)).scalar()
    assert stored >= 3  # the payload is kept as typed; only its display is escaped

    dispatcher = login(app.test_client(), "dispatcher")
    pages = [
        (operator, "/"),
        (operator, "/console/review"),
        (operator, f"/tickets/{ticket.tracking_no}"),
        (operator, "/search/?q=script"),
        (dispatcher, "/dispatch"),
        (handler, "/workspace"),
        (handler, f"/tickets/{ticket.tracking_no}"),
        (admin, "/admin/canned"),
        (admin, "/admin/audit"),
        (dispatcher, f"/tickets/{ticket.tracking_no}"),
    ]
    for client, path in pages:
        html = page(client, path)
        assert_escaped(html, path)
    assert "&lt;script&gt;" in page(operator, f"/tickets/{ticket.tracking_no}")
    assert "&lt;script&gt;alert" in page(operator, "/")  # the list's rows (built in Python) escape the title
    desk = page(dispatcher, "/dispatch")  # its cards are built in Python: the title, the answer, the return reason
    assert desk.count("&lt;script&gt;alert") >= 3
    # the API answers JSON: markup stays data, never HTML
    detail = app.test_client().get(
        f"/api/v1/tickets/{ticket.tracking_no}", headers={"Authorization": f"Bearer {token}"}
    )
    assert detail.mimetype == "application/json" and detail.get_json()["body"] == PAYLOAD


def test_uploaded_photos_are_reencoded_and_served_inert(app, client, world):
    polyglot = png(extra=b"<html><script>alert(1)</script></html>")
    jpeg_with_gps = png(exif=True, kind="JPEG")
    html_as_png = b"<html><body><script>alert(1)</script></body></html>"
    form = {
        "appeal_type": "complaint",
        "category_id": str(world.category.id),
        "district_id": str(world.district.id),
        "citizen_phone": PHONE,
        "title": "照片",
        "body": "见附件照片。",
        "photos": [(io.BytesIO(polyglot), "a.png"), (io.BytesIO(jpeg_with_gps), "b.jpg")],
    }
    assert client.post("/appeal", data=form, content_type="multipart/form-data").status_code == 302
    bad = {**form, "photos": [(io.BytesIO(html_as_png), "evil.png")]}
    assert client.post("/appeal", data=bad, content_type="multipart/form-data").status_code == 400

    from hotline.core.storage import storage

    items = db.session.execute(sa.select(Attachment).order_by(Attachment.id)).scalars().all()
    assert [a.content_type for a in items] == ["image/png", "image/jpeg"]
    stored = [storage().read(a.storage_key) for a in items]
    assert b"<script>" not in stored[0] and b"SecretCam" not in stored[1]
    with Image.open(io.BytesIO(stored[1])) as image:
        assert not image.getexif()

    ticket = items[0].ticket
    from hotline.tickets.services import apply_transition

    apply_transition(ticket, "accept", world.operator)
    db.session.commit()
    staff = login(app.test_client(), "operator")
    response = staff.get(f"/tickets/{ticket.tracking_no}/attachments/{items[0].id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert re.match(r"(inline|attachment); filename=attachment-\d+\.png$", response.headers["Content-Disposition"])
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_no_cross_unit_reads_through_ids_search_exports_or_attachments(app, world):
    from hotline.core.clock import utcnow
    from hotline.core.storage import storage

    mine = world.ticket_in("in_progress", title="东湖区独有的诉求标题")
    theirs = world.ticket_in("pending_dispatch", title="西江区保密诉求标题", district_id=world.other_district.id)
    from hotline.tickets.services import apply_transition

    theirs = apply_transition(theirs, "dispatch", world.dispatcher, lead_unit=world.other_department)
    data = png()
    photo = Attachment(
        ticket=theirs,
        filename="p.png",
        content_type="image/png",
        size=len(data),
        sha256="0" * 64,
        storage_key=storage().save(data, ".png"),
        created_at=utcnow(),
    )
    db.session.add(photo)
    db.session.commit()

    handler = login(app.test_client(), "district_handler")
    # ids in URLs: the other district's ticket, and its photo through a ticket the handler may see
    assert handler.get(f"/tickets/{theirs.tracking_no}").status_code == 404
    assert handler.get(f"/tickets/{theirs.tracking_no}/attachments/{photo.id}").status_code == 404
    assert handler.get(f"/tickets/{mine.tracking_no}/attachments/{photo.id}").status_code == 404
    # search and lists
    for path in ("/search/?q=西江区保密", "/search/?q=诉求标题", f"/search/?q={theirs.tracking_no}", "/", "/workspace"):
        g.pop("_login_user", None)
        html = handler.get(path).get_data(as_text=True)
        assert f"/tickets/{theirs.tracking_no}" not in html and "西江区保密诉求标题" not in html, path
    g.pop("_login_user", None)
    assert mine.tracking_no in handler.get("/search/?q=诉求标题").get_data(as_text=True)
    # the API
    token = (
        app.test_client()
        .post("/api/v1/auth/token", json={"username": "district_handler", "password": PASSWORD})
        .get_json()["access_token"]
    )
    headers = {"Authorization": f"Bearer {token}"}
    listed = app.test_client().get("/api/v1/tickets", headers=headers).get_json()
    assert theirs.tracking_no not in str(listed) and mine.tracking_no in str(listed)
    assert app.test_client().get(f"/api/v1/tickets/{theirs.tracking_no}", headers=headers).status_code == 404
    # exports: a district supervisor exports only the district's tickets, never another unit's
    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user

    create_user("d1-supervisor", PASSWORD, "区督办", org_unit=world.district, roles=[(Role.SUPERVISOR, world.district)])
    db.session.commit()
    supervisor = login(app.test_client(), "d1-supervisor")
    assert supervisor.get(f"/dashboard/export/tickets.csv?unit={world.other_district.id}").status_code == 403
    g.pop("_login_user", None)
    export = supervisor.get("/dashboard/export/tickets.csv?status=open")
    if export.status_code == 400:  # the drill-down needs a board or a filter
        g.pop("_login_user", None)
        export = supervisor.get("/dashboard/export/tickets.csv?board=overdue")
    assert export.status_code == 200 and theirs.tracking_no not in export.get_data(as_text=True)
