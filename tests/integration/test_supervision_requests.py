"""/supervision/requests: the supervisor's queue of pending extension and suspension requests, decided through the
workflow's own decisions; and one open 督办单 per ticket and stage."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.core.clock import LOCAL_TZ, frozen_at, to_utc_naive
from hotline.core.errors import InvalidTransition
from hotline.extensions import db
from hotline.sla import clock as sla_clock
from hotline.sla import supervision as sla_supervision
from hotline.sla.ladder import run_sweep
from hotline.sla.models import SupervisionOrder
from hotline.sla.queries import pending_count, pending_requests
from hotline.tickets.models import ExtensionRequest, SuspensionRequest, TicketEvent
from tests.factories import PASSWORD


def local(*args):
    return to_utc_naive(datetime(*args, tzinfo=LOCAL_TZ))


def _requests(world):
    """Three tickets in progress (answer due Mon 12-07): an extension asked on the 25th, a suspension on the 24th,
    and one in the other district, asked first."""
    with frozen_at(local(2026, 11, 23, 10)):
        first, second = world.ticket_in("in_progress"), world.ticket_in("in_progress")
    with frozen_at(local(2026, 11, 24, 9)):
        suspension = sla_clock.request_suspension(
            second, world.district_handler, "等待检测报告", local(2026, 12, 14, 9)
        )
    with frozen_at(local(2026, 11, 25, 9)):
        extension = sla_clock.request_extension(first, world.district_handler, local(2026, 12, 19, 12), "需要现场复核")
    db.session.commit()
    return first, second, extension, suspension


def _sign_in(client, username):
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_the_queue_lists_pending_requests_oldest_first_in_scope(client, world):
    first, second, extension, suspension = _requests(world)
    rows = pending_requests(world.supervisor)
    assert [(r.kind, r.tracking_no) for r in rows] == [
        ("suspension", second.tracking_no),
        ("extension", first.tracking_no),
    ]
    assert rows[1].deadline_at == local(2026, 12, 7, 23, 59, 59)
    assert rows[1].requested_at == local(2026, 12, 21, 23, 59, 59)  # Saturday 12-19 → Monday's end
    assert rows[0].requested_at == local(2026, 12, 14, 9) and rows[1].reason == "需要现场复核"
    assert pending_count(world.supervisor) == 2
    # a supervisor of the other district sees none of them; a handler may not open the queue
    elsewhere = create_user(
        "d2_supervisor",
        PASSWORD,
        "西江督办",
        org_unit=world.other_district,
        roles=[(Role.SUPERVISOR, world.other_district)],
    )
    db.session.commit()
    assert pending_requests(elsewhere) == [] and pending_count(elsewhere) == 0
    _sign_in(client, "district_handler")
    assert client.get("/supervision/requests").status_code == 403
    client.post("/logout")
    _sign_in(client, "supervisor")
    page = client.get("/supervision/requests").get_data(as_text=True)
    assert page.index(second.tracking_no) < page.index(first.tracking_no)
    assert "需要现场复核" in page and "2026-12-21" in page and "2026-12-07" in page
    assert 'id="pending-requests"' in page and ">2</span>" in page  # the nav's count


def test_a_decision_from_the_queue_goes_through_the_workflow(client, world):
    first, second, extension, suspension = _requests(world)
    _sign_in(client, "supervisor")
    with frozen_at(local(2026, 11, 26, 10)):
        response = client.post(f"/supervision/requests/extension/{extension.id}/approve", data={"note": "同意"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/supervision/requests")
    db.session.expire_all()
    assert db.session.get(ExtensionRequest, extension.id).state == "approved"
    ticket = db.session.merge(first)
    assert ticket.answer_deadline_at == local(2026, 12, 21, 23, 59, 59)
    event = db.session.execute(
        select(TicketEvent).filter_by(ticket_id=first.id, action="extension_approved")
    ).scalar_one()
    assert event.note == "同意" and event.actor_id == world.supervisor.id
    # deciding again is refused with the workflow's message, nothing changes
    page = client.post(f"/supervision/requests/extension/{extension.id}/deny", follow_redirects=True).get_data(
        as_text=True
    )
    assert db.session.get(ExtensionRequest, extension.id).state == "approved"
    assert "already been decided" in page or "已" in page
    # a rejection with a note
    client.post(f"/supervision/requests/suspension/{suspension.id}/deny", data={"note": "请按期办理"})
    db.session.expire_all()
    req = db.session.get(SuspensionRequest, suspension.id)
    assert (req.state, req.decision_note) == ("denied", "请按期办理")
    assert db.session.merge(second).status == "in_progress"
    assert pending_requests(world.supervisor) == []
    assert 'id="no-pending-requests"' in client.get("/supervision/requests").get_data(as_text=True)


def test_a_request_outside_the_supervisors_scope_is_not_found(client, world):
    first, second, extension, suspension = _requests(world)
    create_user(
        "d2_supervisor",
        PASSWORD,
        "西江督办",
        org_unit=world.other_district,
        roles=[(Role.SUPERVISOR, world.other_district)],
    )
    db.session.commit()
    _sign_in(client, "d2_supervisor")
    assert client.post(f"/supervision/requests/extension/{extension.id}/approve").status_code == 404
    assert client.post("/supervision/requests/extension/999999/approve").status_code == 404
    assert client.post(f"/supervision/requests/other/{extension.id}/approve").status_code == 404
    db.session.expire_all()
    assert db.session.get(ExtensionRequest, extension.id).state == "pending"


def _orders(ticket):
    return db.session.execute(
        select(func.count()).select_from(SupervisionOrder).where(SupervisionOrder.ticket_id == ticket.id)
    ).scalar_one()


def test_no_second_order_for_the_same_stage_while_one_is_open(world):
    with frozen_at(local(2026, 11, 23, 10)):
        ticket = world.ticket_in("in_progress")
    counts = run_sweep(local(2026, 12, 8, 9))  # past the answer deadline: red card and the ladder's order
    assert counts["supervision_order"] == 1
    with frozen_at(local(2026, 12, 8, 9, 5)), pytest.raises(InvalidTransition) as refused:
        sla_supervision.issue_supervision_order(db.session.merge(ticket), world.supervisor, "请立即办理")
    assert "2026-12-08" in str(refused.value.message)
    db.session.rollback()
    assert _orders(ticket) == 1
    # once the unit answered, a supervisor may order again
    order = db.session.execute(select(SupervisionOrder).filter_by(ticket_id=ticket.id)).scalar_one()
    with frozen_at(local(2026, 12, 8, 10)):
        sla_supervision.respond_to_supervision(order, world.district_handler, "正在处理")
        db.session.commit()
    with frozen_at(local(2026, 12, 8, 11)):
        manual = sla_supervision.issue_supervision_order(db.session.merge(ticket), world.supervisor, "请今日办结")
        db.session.commit()
    assert (manual.clock_kind, manual.clock_deadline_at) == ("answer", local(2026, 12, 7, 23, 59, 59))
    with frozen_at(local(2026, 12, 8, 12)), pytest.raises(InvalidTransition):
        sla_supervision.issue_supervision_order(db.session.merge(ticket), world.supervisor, "再次督办")
    db.session.rollback()
    assert _orders(ticket) == 2


def test_the_refusal_reads_on_the_ticket_page(client, world):
    with frozen_at(local(2026, 11, 23, 10)):
        ticket = world.ticket_in("in_progress")
    sla_supervision.issue_supervision_order(ticket, world.supervisor, "请于明日前反馈")
    db.session.commit()
    _sign_in(client, "supervisor")
    page = client.post(
        f"/tickets/{ticket.tracking_no}/supervise", data={"message": "第二次"}, follow_redirects=True
    ).get_data(as_text=True)
    assert _orders(ticket) == 1
    assert "仍在等待" in page or "still waiting" in page
