"""The ticket page's reads: every collection it shows comes loaded, and empty ones cost no query."""

from datetime import timedelta

from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.sla.models import SupervisionOrder, Urging
from hotline.tickets.models import Assignment, Attachment, ExtensionRequest, SuspensionRequest
from hotline.tickets.services import get_ticket
from tests.factories import PASSWORD

COLLECTIONS = (
    "events",
    "assignments",
    "replies",
    "attachments",
    "duplicates",
    "supervision_orders",
    "urgings",
    "extension_requests",
    "suspension_requests",
)


def _whole(tracking_no, statements):
    db.session.expire_all()
    statements.clear()
    ticket = get_ticket(tracking_no, whole=True)
    used = len(statements)
    loaded = {name: list(getattr(ticket, name)) for name in COLLECTIONS}  # must not query again
    assert len(statements) == used, statements[used:]
    return ticket, loaded, used


def test_a_new_ticket_reads_its_row_and_history_only(world, statements):
    ticket = world.ticket_in("pending_dispatch")
    _, loaded, used = _whole(ticket.tracking_no, statements)
    assert used == 2  # the ticket with its category and units (and which collections have rows), its history
    assert [e.action for e in loaded["events"]] == ["register"]
    assert all(loaded[name] == [] for name in COLLECTIONS if name != "events")


def test_collections_with_rows_are_read_and_match_the_database(world, statements):
    ticket = world.ticket_in("in_progress")
    now = utcnow()
    duplicate = world.ticket_in("pending_dispatch")
    duplicate.merged_into_id = ticket.id
    unit = world.department
    db.session.add_all(
        [
            Urging(
                ticket_id=ticket.id, unit_id=unit.id, message="请尽快办理", response_deadline=now + timedelta(days=1)
            ),
            SupervisionOrder(ticket_id=ticket.id, unit_id=unit.id, message="督办", response_deadline=now),
            ExtensionRequest(
                ticket_id=ticket.id, unit_id=unit.id, reason="需现场核实", requested_deadline=now + timedelta(days=5)
            ),
            Attachment(
                ticket_id=ticket.id,
                filename="a.jpg",
                content_type="image/jpeg",
                size=3,
                sha256="0" * 64,
                storage_key="test-key-a",
            ),
        ]
    )
    db.session.commit()
    ticket_id = ticket.id

    loaded_ticket, loaded, used = _whole(ticket.tracking_no, statements)
    # row + events + assignments, attachments, duplicates, supervision orders, urgings, extension requests
    assert used == 8
    assert loaded_ticket.id == ticket_id
    for name, model in [
        ("urgings", Urging),
        ("supervision_orders", SupervisionOrder),
        ("extension_requests", ExtensionRequest),
        ("suspension_requests", SuspensionRequest),
        ("attachments", Attachment),
    ]:
        expected = (
            db.session.execute(db.select(model.id).where(model.ticket_id == ticket_id).order_by(model.id))
            .scalars()
            .all()
        )
        assert [r.id for r in loaded[name]] == expected, name
    assert [t.id for t in loaded["duplicates"]] == [duplicate.id]
    assert [a.id for a in loaded["assignments"]] == db.session.execute(
        db.select(Assignment.id).where(Assignment.ticket_id == ticket_id).order_by(Assignment.id)
    ).scalars().all()
    assert loaded["assignments"] and loaded["assignments"][0].unit is not None
    assert loaded["replies"] == []


def test_the_page_shows_the_supervision_records(client, world):
    ticket = world.ticket_in("in_progress")
    db.session.add(
        Urging(
            ticket_id=ticket.id,
            unit_id=world.department.id,
            message="请尽快回复市民",
            response_deadline=utcnow() + timedelta(days=1),
        )
    )
    db.session.add(
        ExtensionRequest(
            ticket_id=ticket.id,
            unit_id=world.department.id,
            reason="需要协调三个部门",
            requested_deadline=utcnow() + timedelta(days=5),
        )
    )
    db.session.commit()
    client.post("/login", data={"username": "supervisor", "password": PASSWORD})
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert "请尽快回复市民" in page and "需要协调三个部门" in page


def test_the_panel_has_no_empty_form_area_for_a_dispatcher(client, world):
    ticket = world.ticket_in("in_progress")
    db.session.add(
        Urging(
            ticket_id=ticket.id,
            unit_id=world.department.id,
            message="请尽快回复市民",
            response_deadline=utcnow() + timedelta(days=1),
        )
    )
    db.session.commit()
    client.post("/login", data={"username": "dispatcher", "password": PASSWORD})
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    panel = page[page.index('id="supervision"') :]
    panel = panel[: panel.index("</section>")]
    assert "请尽快回复市民" in panel and "card-body border-top" not in panel
