"""Accountability cases (责任追究): opened by a supervisor from a red card, an unsatisfied redo or a supervision
order only; the unit's rectification report and the supervisor's review; deadlines and overdue reports; who
sees which case; the audit rows; the per-unit counts the assessment reads. Both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.accountability.models import AccountabilityCase
from hotline.accountability.queries import CaseFilters, cases_query
from hotline.accountability.services import (
    CaseInput,
    case_counts,
    open_case,
    remind_overdue_reports,
    review_case,
    submit_report,
)
from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.core.audit import AuditEntry
from hotline.core.clock import frozen_at, to_local, utcnow
from hotline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.sla.ladder import run_sweep
from hotline.sla.supervision import issue_supervision_order
from hotline.tickets.services import apply_transition
from tests.factories import PASSWORD


def login(client, username):
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302


def red_carded(world):
    """A ticket at 东湖区 whose answer deadline passed: the sweep showed its red card."""
    ticket = world.ticket_in("in_progress")
    counts = run_sweep(utcnow() + timedelta(days=60))
    assert counts["red"] == 1
    return ticket


def redone(world):
    """A ticket the citizen rated unsatisfied: back at 东湖区 for a redo."""
    ticket = world.ticket_in("pending_callback")
    apply_transition(ticket, "rate_unsatisfied", world.operator, comment="问题没有解决")
    db.session.commit()
    return ticket


def case_input(world, ticket, origin, **overrides):
    fields = dict(
        origin=origin,
        unit=world.district,
        findings="超期未办结，未说明理由",
        measure="interview",
        ticket=ticket,
        official_name="李主任",
    )
    fields.update(overrides)
    return CaseInput(**fields)


def audit_actions(case):
    return [
        e.action
        for e in db.session.execute(
            select(AuditEntry).where(AuditEntry.target == f"case {case.id}").order_by(AuditEntry.id)
        ).scalars()
    ]


def notes_to(user, template):
    return (
        db.session.execute(
            select(Notification).where(Notification.recipient_user_id == user.id, Notification.template == template)
        )
        .scalars()
        .all()
    )


def count_cases():
    return db.session.execute(select(func.count()).select_from(AccountabilityCase)).scalar_one()


# --- opening from each origin --------------------------------------------------------------------------------


def test_a_supervisor_opens_a_case_from_a_red_card(world):
    ticket = red_carded(world)
    case = open_case(world.supervisor, case_input(world, ticket, "red_card"))
    db.session.commit()
    assert (case.unit_id, case.origin, case.ticket_id, case.status) == (
        world.district.id,
        "red_card",
        ticket.id,
        "opened",
    )
    assert case.official_name == "李主任" and case.measure == "interview"
    assert utcnow() < case.report_due_at < case.review_due_at
    assert audit_actions(case) == ["accountability.open"]
    [note] = notes_to(world.district_handler, "accountability_opened")
    assert note.channel == "in_app" and note.ticket_id == ticket.id
    assert "李主任" not in str(note.payload)  # the official's name never leaves in a notification


def test_a_supervisor_opens_a_case_from_an_unsatisfied_redo(world):
    ticket = redone(world)
    case = open_case(world.supervisor, case_input(world, ticket, "redo", measure="criticism", official_name=None))
    db.session.commit()
    assert (case.origin, case.measure, case.official_name) == ("redo", "criticism", None)
    assert audit_actions(case) == ["accountability.open"]


def test_a_case_from_a_supervision_order_is_against_the_unit_it_was_issued_to(world):
    ticket = world.ticket_in("in_progress")
    order = issue_supervision_order(ticket, world.supervisor, "请三日内办结")
    db.session.commit()
    case = open_case(
        world.supervisor, case_input(world, None, "supervision_order", unit=None, order=order, measure="discipline")
    )
    db.session.commit()
    assert (case.unit_id, case.supervision_order_id, case.ticket_id) == (world.district.id, order.id, ticket.id)
    with pytest.raises(ValidationFailed) as refused:
        open_case(
            world.supervisor,
            case_input(world, None, "supervision_order", unit=world.other_district, order=order),
        )
    assert refused.value.field == "unit"


# --- refusals: an ineligible origin, a wrong unit, a wrong person ----------------------------------------------


def test_an_ineligible_origin_is_refused_with_a_clear_message_and_nothing_stored(world):
    ticket = world.ticket_in("in_progress")  # on time, never rated
    with pytest.raises(InvalidTransition) as red:
        open_case(world.supervisor, case_input(world, ticket, "red_card"))
    assert "从未亮红牌" in str(red.value.message)  # the default language; the msgid says "never had a red card"
    with pytest.raises(InvalidTransition) as redo:
        open_case(world.supervisor, case_input(world, ticket, "redo"))
    assert "从未因不满意重办" in str(redo.value.message)
    with pytest.raises(ValidationFailed):
        open_case(world.supervisor, case_input(world, ticket, "no_such_origin"))
    db.session.rollback()
    assert count_cases() == 0


def test_the_web_form_refuses_an_ineligible_origin_and_stores_nothing(client, world):
    ticket = world.ticket_in("in_progress")
    login(client, "supervisor")
    page = client.get(f"/accountability/tickets/{ticket.tracking_no}/new").get_data(as_text=True)
    assert "不能据此发起问责" in page  # no red card, no redo, no order: the form says so
    response = client.post(
        f"/accountability/tickets/{ticket.tracking_no}/new",
        data={"origin": "red_card", "unit": world.district.id, "findings": "超期", "measure": "interview"},
    )
    assert response.status_code == 400
    assert "从未亮红牌" in response.get_data(as_text=True)
    assert count_cases() == 0


def test_the_unit_must_have_worked_on_the_ticket_and_only_its_supervisor_opens(world):
    ticket = red_carded(world)
    with pytest.raises(ValidationFailed) as refused:
        open_case(world.supervisor, case_input(world, ticket, "red_card", unit=world.other_district))
    assert refused.value.field == "unit"
    with pytest.raises(PermissionDenied):
        open_case(world.district_handler, case_input(world, ticket, "red_card"))
    west = create_user(
        "west_supervisor",
        PASSWORD,
        "west",
        org_unit=world.other_district,
        roles=[(Role.SUPERVISOR, world.other_district)],
    )
    with pytest.raises(PermissionDenied):
        open_case(west, case_input(world, ticket, "red_card"))
    with pytest.raises(ValidationFailed) as empty:
        open_case(world.supervisor, case_input(world, ticket, "red_card", findings="  "))
    assert empty.value.field == "findings"
    db.session.rollback()
    assert count_cases() == 0


def test_a_second_open_case_on_the_same_origin_is_refused(world):
    ticket = red_carded(world)
    open_case(world.supervisor, case_input(world, ticket, "red_card"))
    with pytest.raises(InvalidTransition):
        open_case(world.supervisor, case_input(world, ticket, "red_card", measure="criticism"))


def test_deadlines_must_be_in_order(world):
    ticket = red_carded(world)
    today = to_local(utcnow()).date()
    with pytest.raises(ValidationFailed) as past:
        open_case(world.supervisor, case_input(world, ticket, "red_card", report_due=today - timedelta(days=3)))
    assert past.value.field == "report_due"
    with pytest.raises(ValidationFailed) as far:
        open_case(world.supervisor, case_input(world, ticket, "red_card", review_due=today + timedelta(days=400)))
    assert far.value.field == "review_due"
    with pytest.raises(ValidationFailed) as order:
        open_case(
            world.supervisor,
            case_input(
                world, ticket, "red_card", report_due=today + timedelta(days=20), review_due=today + timedelta(days=10)
            ),
        )
    assert order.value.field == "review_due"


# --- the report and its review --------------------------------------------------------------------------------


def test_report_return_report_accept(world):
    ticket = red_carded(world)
    case = open_case(world.supervisor, case_input(world, ticket, "red_card"))
    db.session.commit()
    with pytest.raises(PermissionDenied):
        submit_report(case, world.outsider, "不是我们的")
    with pytest.raises(InvalidTransition):
        review_case(case, world.supervisor, True, None)  # nothing to review yet
    submit_report(case, world.district_handler, "已约谈经办人，建立台账，每日跟踪。")
    db.session.commit()
    assert case.status == "report_submitted" and case.report_by_id == world.district_handler.id
    assert notes_to(world.supervisor, "accountability_report")
    with pytest.raises(InvalidTransition):
        submit_report(case, world.district_handler, "再交一份")
    with pytest.raises(PermissionDenied):
        review_case(case, world.district_handler, True, None)
    with pytest.raises(ValidationFailed) as no_reason:
        review_case(case, world.supervisor, False, "")
    assert no_reason.value.field == "note"
    first_due = case.report_due_at
    review_case(case, world.supervisor, False, "整改措施不具体")
    db.session.commit()
    assert case.status == "returned" and case.review_note == "整改措施不具体"
    assert case.report_due_at > utcnow() and case.review_due_at > case.report_due_at
    assert case.report_due_at != first_due or case.report_due_at > utcnow()
    assert notes_to(world.district_handler, "accountability_returned")
    submit_report(case, world.district_handler, "明确责任人和时限，已整改到位。")
    review_case(case, world.supervisor, True, None)
    db.session.commit()
    assert case.status == "closed" and case.reviewed_by_id == world.supervisor.id
    assert notes_to(world.district_handler, "accountability_closed")
    assert audit_actions(case) == [
        "accountability.open",
        "accountability.report",
        "accountability.review",
        "accountability.report",
        "accountability.review",
    ]


def test_the_report_and_review_through_the_pages(client, world):
    ticket = redone(world)
    case = open_case(world.supervisor, case_input(world, ticket, "redo"))
    db.session.commit()
    login(client, "district_handler")
    page = client.get(f"/accountability/{case.id}").get_data(as_text=True)
    assert "提交整改报告" in page and "李主任" not in page  # the unit never sees the official's name
    assert client.post(f"/accountability/{case.id}/report", data={"report": ""}).status_code == 400
    response = client.post(f"/accountability/{case.id}/report", data={"report": "已整改"})
    assert response.status_code == 302
    client.post("/logout")
    login(client, "supervisor")
    page = client.get(f"/accountability/{case.id}").get_data(as_text=True)
    assert "李主任" in page and "已整改" in page
    refused = client.post(f"/accountability/{case.id}/review", data={"decision": "return", "note": ""})
    assert refused.status_code == 400
    assert client.post(f"/accountability/{case.id}/review", data={"decision": "accept"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(AccountabilityCase, case.id).status == "closed"


# --- deadlines and overdue reports ------------------------------------------------------------------------------


def test_an_overdue_report_is_flagged_listed_and_reminded_once(client, world):
    ticket = red_carded(world)
    case = open_case(world.supervisor, case_input(world, ticket, "red_card"))
    db.session.commit()
    later = case.report_due_at + timedelta(hours=1)
    assert not case.report_overdue(utcnow()) and case.report_overdue(later)
    overdue = CaseFilters(overdue=True)
    assert db.session.execute(cases_query(world.supervisor, overdue, utcnow())).scalars().all() == []
    assert db.session.execute(cases_query(world.supervisor, overdue, later)).scalars().all() == [case]
    assert remind_overdue_reports(later) == 1
    assert remind_overdue_reports(later) == 0  # once per deadline
    db.session.commit()
    assert len(notes_to(world.district_handler, "accountability_overdue")) == 1
    assert "accountability.remind" in audit_actions(case)
    login(client, "supervisor")
    with frozen_at(later):
        page = client.get("/accountability/?overdue=1").get_data(as_text=True)
    assert f"/accountability/{case.id}" in page and "table-danger" in page and "report-overdue" in page


def test_a_late_report_gives_the_review_its_working_days(world):
    ticket = red_carded(world)
    case = open_case(world.supervisor, case_input(world, ticket, "red_card"))
    db.session.commit()
    late = case.review_due_at + timedelta(days=1)
    with frozen_at(late):
        submit_report(case, world.district_handler, "迟交的报告")
    assert case.review_due_at > late


# --- scope ----------------------------------------------------------------------------------------------------


def test_handlers_see_only_their_own_units_cases(client, world):
    ticket = red_carded(world)
    case = open_case(world.supervisor, case_input(world, ticket, "red_card"))
    db.session.commit()
    assert db.session.execute(cases_query(world.outsider, CaseFilters(), utcnow())).scalars().all() == []
    assert db.session.execute(cases_query(world.district_handler, CaseFilters(), utcnow())).scalars().all() == [case]
    login(client, "outsider")
    assert client.get(f"/accountability/{case.id}").status_code == 404  # as for a ticket of another unit
    assert client.post(f"/accountability/{case.id}/report", data={"report": "x"}).status_code == 404
    assert f"/accountability/{case.id}" not in client.get("/accountability/").get_data(as_text=True)
    client.post("/logout")
    login(client, "district_handler")
    listing = client.get(f"/accountability/?unit={world.district.id}").get_data(as_text=True)
    assert f"/accountability/{case.id}" in listing and "李主任" not in listing
    client.post("/logout")
    login(client, "operator")
    assert client.get("/accountability/").status_code == 403


def test_the_ticket_page_offers_a_supervisor_the_case_when_the_ticket_qualifies(client, world):
    ticket = red_carded(world)
    plain = world.ticket_in("in_progress")  # after the sweep: on time
    login(client, "supervisor")
    assert 'data-testid="open-case-red_card"' in client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert "open-case-" not in client.get(f"/tickets/{plain.tracking_no}").get_data(as_text=True)
    response = client.post(
        f"/accountability/tickets/{ticket.tracking_no}/new",
        data={"origin": "red_card", "unit": world.district.id, "findings": "超期未办", "measure": "criticism"},
    )
    assert response.status_code == 302
    case = db.session.execute(select(AccountabilityCase)).scalar_one()
    assert (case.origin, case.measure, case.unit_id) == ("red_card", "criticism", world.district.id)
    client.post("/logout")
    login(client, "district_handler")
    page = client.get(f"/tickets/{ticket.tracking_no}").get_data(as_text=True)
    assert f"/accountability/{case.id}" in page and "open-case-" not in page


# --- the assessment's count ---------------------------------------------------------------------------------------


def test_case_counts_per_unit_and_period(world):
    ticket = red_carded(world)
    start = utcnow() - timedelta(minutes=1)
    open_case(world.supervisor, case_input(world, ticket, "red_card"))
    order = issue_supervision_order(world.ticket_in("in_progress"), world.supervisor, "请尽快办理")
    open_case(world.supervisor, case_input(world, None, "supervision_order", unit=None, order=order))
    db.session.commit()
    end = utcnow() + timedelta(minutes=1)
    ids = [world.district.id, world.other_district.id]
    assert case_counts(ids, start, end) == {world.district.id: 2, world.other_district.id: 0}
    assert case_counts(ids, end, end + timedelta(days=1)) == {world.district.id: 0, world.other_district.id: 0}
    assert case_counts([], start, end) == {}
    assert case_counts([world.district.id], datetime(2000, 1, 1), start) == {world.district.id: 0}


def test_the_remind_command_tells_overdue_units_once(app, world):
    ticket = red_carded(world)
    case = open_case(world.supervisor, case_input(world, ticket, "red_card"))
    db.session.commit()
    runner = app.test_cli_runner()
    with frozen_at(case.report_due_at + timedelta(minutes=5)):
        first = runner.invoke(args=["accountability", "remind"])
        second = runner.invoke(args=["accountability", "remind"])
    assert first.exit_code == 0 and "1 overdue" in first.output
    assert second.exit_code == 0 and "0 overdue" in second.output
    assert len(notes_to(world.district_handler, "accountability_overdue")) == 1
