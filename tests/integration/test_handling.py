"""Handling work beyond status changes: queues, notes, opinions, contact reveal, routing suggestion."""

import pytest
from sqlalchemy import select

from hotline.core.errors import InvalidTransition, PermissionDenied
from hotline.extensions import db
from hotline.tickets import handling
from hotline.tickets.models import CannedAnswer, TicketEvent
from hotline.tickets.services import apply_transition
from tests.factories import PASSWORD, PHONE


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def test_dispatch_desk_lists_urgent_first_with_a_suggestion(client, world):
    normal = world.ticket_in("pending_dispatch")
    urgent = world.ticket_in("pending_dispatch", urgency="urgent")
    login(client, "dispatcher")
    page = client.get("/dispatch").get_data(as_text=True)
    assert page.index(urgent.tracking_no) < page.index(normal.tracking_no)
    # the routing catalogue preselects the district housing bureau
    assert f'value="{world.department.id}" selected' in page
    response = client.post(
        f"/tickets/{normal.tracking_no}/actions/dispatch",
        data={"lead_unit": world.department.id, "version": normal.version, "next": "dispatch"},
    )
    assert response.headers["Location"].endswith("/dispatch")
    db.session.expire_all()
    assert normal.status == "dispatched" and normal.lead_unit_id == world.department.id


def test_dispatch_desk_is_for_dispatchers(client, world):
    login(client, "district_handler")
    assert client.get("/dispatch").status_code == 403


def test_workspace_shows_due_first(client, world):
    later = world.ticket_in("in_progress", appeal_type="suggestion")  # 15 working days
    sooner = world.ticket_in("in_progress", appeal_type="consultation")  # 3 working days
    elsewhere = world.ticket_in("pending_dispatch")
    login(client, "district_handler")
    page = client.get("/workspace").get_data(as_text=True)
    assert page.index(sooner.tracking_no) < page.index(later.tracking_no)
    assert elsewhere.tracking_no not in page


def test_workspace_sorts_by_the_deadline_it_shows_overdue_first_and_splits_to_do_from_waiting(client, world):
    """Issue 22.4: rows due 12-07 sat above overdue rows; tickets where the unit had nothing to do were listed."""
    from datetime import timedelta

    from hotline.core.clock import utcnow

    now = utcnow()
    due_later = world.ticket_in("in_progress")
    overdue = world.ticket_in("in_progress")
    to_sign = world.ticket_in("dispatched")
    under_review = world.ticket_in("replied")
    return_asked = world.ticket_in("return_requested")
    due_later.answer_deadline_at, overdue.answer_deadline_at = now + timedelta(days=5), now - timedelta(days=2)
    to_sign.sign_deadline_at, to_sign.answer_deadline_at = now + timedelta(hours=2), now + timedelta(days=9)
    # next_deadline_at (a yellow card's time, a supervision answer) is not what the row shows
    due_later.next_deadline_at, overdue.next_deadline_at = now - timedelta(days=9), now + timedelta(days=9)
    db.session.commit()
    login(client, "district_handler")
    page = client.get("/workspace").get_data(as_text=True)
    rows = page.split('data-testid="workspace"')[1]
    order = [t.tracking_no for t in (overdue, to_sign, due_later)]
    assert sorted(order, key=rows.index) == order
    assert under_review.tracking_no not in rows and return_asked.tracking_no not in rows
    assert 'data-testid="count-to-do">3<' in page and 'data-testid="count-waiting">2<' in page
    waiting = client.get("/workspace?show=waiting").get_data(as_text=True).split('data-testid="workspace"')[1]
    assert under_review.tracking_no in waiting and return_asked.tracking_no in waiting
    assert overdue.tracking_no not in waiting


def test_workspace_pages_through_every_ticket_to_do_in_deadline_order(app, client, world):
    """The tab showed its first 300 tickets and silently left the rest out; it pages like the ticket list."""
    from datetime import timedelta

    from hotline.core.clock import utcnow

    now = utcnow()
    tickets = [world.ticket_in("in_progress") for _ in range(5)]
    for days, ticket in enumerate(tickets):
        ticket.answer_deadline_at = now + timedelta(days=days + 1)
    waiting = world.ticket_in("replied")
    db.session.commit()
    app.config["TICKETS_PER_PAGE"] = 2
    try:
        login(client, "district_handler")
        seen = []
        for number in (1, 2, 3):
            page = client.get(f"/workspace?page={number}").get_data(as_text=True)
            rows = page.split('data-testid="workspace"')[1].split("</table>")[0]
            seen += sorted((t.tracking_no for t in tickets if t.tracking_no in rows), key=rows.index)
            assert waiting.tracking_no not in rows
        assert seen == [t.tracking_no for t in tickets]  # each once, by deadline, across the pages
        assert "第 3–4 件，共 5 件" in client.get("/workspace?page=2").get_data(as_text=True)
        assert 'href="/workspace?page=2"' in client.get("/workspace").get_data(as_text=True)
        assert client.get("/workspace?page=abc").status_code == 400
    finally:
        app.config["TICKETS_PER_PAGE"] = 50


def test_notes_by_units_and_hotline_but_not_outsiders(world):
    ticket = world.ticket_in("in_progress")
    handling.add_note(ticket, world.district_handler, "已联系物业公司")
    handling.add_note(ticket, world.dispatcher, "来电人再次来电催问")
    with pytest.raises(PermissionDenied):
        handling.add_note(ticket, world.outsider, "x")
    closed = world.ticket_in("closed")
    with pytest.raises(InvalidTransition):
        handling.add_note(closed, world.district_handler, "x")
    db.session.commit()
    notes = [e for e in ticket.events if e.action == "note"]
    assert [n.note for n in notes] == ["已联系物业公司", "来电人再次来电催问"] and not notes[0].public


def test_assisting_unit_sends_its_opinion_once(world):
    ticket = world.ticket_in("pending_dispatch")
    apply_transition(
        ticket, "dispatch", world.dispatcher, lead_unit=world.district, assist_units=[world.other_department]
    )
    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user

    helper = create_user(
        "assist", PASSWORD, "协办", org_unit=world.other_department, roles=[(Role.HANDLER, world.other_department)]
    )
    handling.send_opinion(ticket, helper, "建议由属地街道牵头，我局配合执法。")
    with pytest.raises(InvalidTransition):
        handling.send_opinion(ticket, helper, "again")
    with pytest.raises(PermissionDenied):
        handling.send_opinion(ticket, world.district_handler, "lead is not an assisting unit")
    assist = next(a for a in ticket.assignments if a.role == "assist")
    assert assist.status == "answered"


def test_reveal_is_for_hotline_staff_and_is_recorded(client, world):
    ticket = world.ticket_in("in_progress")
    login(client, "district_handler")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert PHONE not in page and "139****5678" in page and 'data-testid="reveal"' not in page
    assert client.post(f"/tickets/{ticket.tracking_no}/contact").status_code == 403
    client.post("/logout")
    login(client, "dispatcher")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert PHONE not in page and 'data-testid="reveal"' in page
    revealed = client.post(f"/tickets/{ticket.tracking_no}/contact").get_data(as_text=True)
    assert PHONE in revealed
    reveals = (
        db.session.execute(select(TicketEvent).filter_by(ticket_id=ticket.id, action="reveal_contact")).scalars().all()
    )
    assert len(reveals) == 1 and reveals[0].actor.username == "dispatcher" and not reveals[0].public


def test_canned_answers_for_the_category_and_general_ones(world):
    general = CannedAnswer(title="通用", body="已处理")
    specific = CannedAnswer(title="物业", body="已约谈物业", category=world.category)
    other = CannedAnswer(title="其他", body="x", category=world.parent_category)
    db.session.add_all([general, specific, other])
    ticket = world.ticket_in("in_progress")
    assert [c.title for c in handling.canned_answers(ticket)] == ["物业", "通用"]


def test_note_and_opinion_through_the_page(client, world):
    ticket = world.ticket_in("in_progress")
    login(client, "district_handler")
    assert client.post(f"/tickets/{ticket.tracking_no}/note", data={"note": "已到现场核查"}).status_code == 302
    assert client.post(f"/tickets/{ticket.tracking_no}/note", data={"note": ""}).status_code == 400
    assert client.post(f"/tickets/{ticket.tracking_no}/opinion", data={"note": "x"}).status_code == 403
    assert "已到现场核查" in client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)


def test_merge_links_both_ways_and_informs_the_citizen(client, world):
    from hotline.notify.models import Notification

    master = world.ticket_in("in_progress")
    duplicate = world.ticket_in("pending_dispatch")
    apply_transition(duplicate, "merge", world.dispatcher, master=master)
    db.session.commit()
    assert duplicate.merged_into_id == master.id and master.duplicates == [duplicate]
    assert any(e.action == "merged_in" for e in master.events)
    sms = db.session.execute(select(Notification).filter_by(ticket_id=duplicate.id)).scalars().all()
    assert any(master.tracking_no in str(n.payload) for n in sms)
    login(client, "dispatcher")
    assert duplicate.tracking_no in client.get(f"/tickets/{master.tracking_no}").get_data(as_text=True)


@pytest.mark.parametrize("username", ["district_handler", "street_handler"])
def test_no_page_a_handler_reaches_shows_a_full_phone(client, world, username):
    in_progress = world.ticket_in("in_progress")
    apply_transition(in_progress, "pass_down", world.district_handler, unit=world.street)
    callback = world.ticket_in("pending_callback")
    db.session.commit()
    login(client, username)
    pages = [
        "/",
        "/workspace",
        f"/tickets/{in_progress.tracking_no}",
        f"/tickets/{callback.tracking_no}",
        "/?status=in_progress",
        "/?status=pending_callback",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert PHONE not in response.get_data(as_text=True), url
