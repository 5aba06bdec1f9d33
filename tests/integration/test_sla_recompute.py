"""Provisional deadlines recomputed when their year's calendar is entered keep what happened to them:
extensions, suspensions, redo."""

from datetime import date, datetime
from pathlib import Path

import pytest

from hotline.core.clock import LOCAL_TZ, frozen_at, to_utc_naive
from hotline.extensions import db
from hotline.sla import admin as sla_admin
from hotline.sla import clock as sla_clock
from hotline.sla import policy as sla_policy
from hotline.sla.models import WorkCalendarDay
from hotline.sla.notice import parse_csv, parse_notice
from hotline.tickets.services import apply_transition

DATA = Path(__file__).resolve().parents[1] / "data"
# A (fictional) notice for 2027: New Year's day and the following Monday and Tuesday off.
NOTICE_2027 = "date,is_workday,note\n2027-01-01,0,元旦\n2027-01-04,0,元旦\n2027-01-05,0,元旦\n"


def local(*args):
    return to_utc_naive(datetime(*args, tzinfo=LOCAL_TZ))


def end_of(y, m, d):
    return local(y, m, d, 23, 59, 59)


@pytest.fixture
def calendar_2027(app):
    yield
    db.session.rollback()
    db.session.execute(WorkCalendarDay.__table__.delete().where(WorkCalendarDay.day >= datetime(2027, 1, 1).date()))
    db.session.commit()
    sla_policy.invalidate_calendar()


@pytest.fixture
def before_the_2026_notice(app):
    """The calendar as it stood before the State Council's 2026 notice: 2026 unknown, weekdays count."""
    db.session.execute(
        WorkCalendarDay.__table__.delete().where(
            WorkCalendarDay.day >= date(2026, 1, 1), WorkCalendarDay.day <= date(2026, 12, 31)
        )
    )
    db.session.commit()
    sla_policy.invalidate_calendar()
    assert 2026 not in sla_policy.current_calendar().known_years
    yield
    db.session.rollback()
    sla_admin.seed_calendar_from_package()  # the package's 2026 days that the test did not import again
    db.session.commit()


def import_2026():
    result = sla_admin.import_calendar_year(parse_notice((DATA / "notice_2026.txt").read_text()))
    db.session.commit()
    return result


def import_2027():
    result = sla_admin.import_calendar_year(parse_csv(NOTICE_2027))
    db.session.commit()
    return result


def lead_assignment(ticket):
    return next(a for a in ticket.active_assignments() if a.role == "lead")


def in_progress_on_monday(world):
    with frozen_at(local(2026, 12, 21, 10)):  # complaint: 10 working days from Tue 12-22
        ticket = world.ticket_in("in_progress")
    # weekdays counted for 2027: 12-22 … 12-31 are 8, 2027-01-01 and 01-04 the 9th and 10th
    assert ticket.answer_deadline_at == end_of(2027, 1, 4) and ticket.deadline_provisional
    return ticket


def test_a_suspension_keeps_its_working_days_after_the_recompute(world, calendar_2027):
    ticket = in_progress_on_monday(world)
    with frozen_at(local(2026, 12, 23, 10)):
        apply_transition(ticket, "suspend", world.supervisor, note="等待检测报告")
        db.session.commit()
    with frozen_at(local(2026, 12, 28, 10)):
        apply_transition(ticket, "resume", world.supervisor)
        db.session.commit()
    # 8 working days were left at the pause (12-24 … 01-04), counted again from Mon 12-28
    assert ticket.answer_deadline_at == end_of(2027, 1, 7) and ticket.deadline_provisional

    assert import_2027()["recomputed"] == 1
    db.session.refresh(ticket)
    # with 2027 known: the dispatch deadline is 01-07 (01-01, 01-04, 01-05 off); at the pause 8 working
    # days were left (12-24 … 12-31, 01-06, 01-07); from 12-28 they run 12-29, 12-30, 12-31, 01-06, 01-07,
    # 01-08, 01-11, 01-12. Without the suspension it would be 01-07.
    assert ticket.answer_deadline_at == end_of(2027, 1, 12)
    assert not ticket.deadline_provisional
    assert lead_assignment(ticket).answer_deadline_at == ticket.answer_deadline_at
    assert ticket.next_deadline_at == end_of(2027, 1, 11)  # the yellow card moved with it


def test_an_extension_keeps_its_requested_day_after_the_recompute(world, calendar_2027):
    ticket = in_progress_on_monday(world)
    with frozen_at(local(2026, 12, 22, 10)):
        req = sla_clock.request_extension(ticket, world.district_handler, local(2027, 1, 5, 12), "需要现场复核")
        db.session.commit()
        sla_clock.decide_extension(req, world.supervisor, True, "同意")
        db.session.commit()
    assert ticket.answer_deadline_at == end_of(2027, 1, 5) and ticket.deadline_provisional

    assert import_2027()["recomputed"] == 1
    db.session.refresh(ticket)
    # 01-05 became a day off: the end of the next working day; not the dispatch deadline (01-07)
    assert ticket.answer_deadline_at == end_of(2027, 1, 6)
    assert not ticket.deadline_provisional
    assert lead_assignment(ticket).answer_deadline_at == end_of(2027, 1, 6)


def test_extension_then_suspension_both_survive(world, calendar_2027):
    ticket = in_progress_on_monday(world)
    with frozen_at(local(2026, 12, 22, 10)):
        req = sla_clock.request_extension(ticket, world.district_handler, local(2027, 1, 6, 12), "需要现场复核")
        sla_clock.decide_extension(req, world.supervisor, True)
        db.session.commit()
    with frozen_at(local(2026, 12, 30, 10)):
        apply_transition(ticket, "suspend", world.supervisor, note="等待检测报告")
        db.session.commit()
    with frozen_at(local(2026, 12, 31, 10)):
        apply_transition(ticket, "resume", world.supervisor)
        db.session.commit()
    import_2027()
    db.session.refresh(ticket)
    # extended to 01-06; paused on 12-30 with 2 working days left (12-31, 01-06); from 12-31: 01-06, 01-07
    assert ticket.answer_deadline_at == end_of(2027, 1, 7) and not ticket.deadline_provisional


def test_a_redo_is_recomputed_from_the_rating(world, calendar_2027):
    with frozen_at(local(2026, 12, 29, 10)):
        ticket = world.ticket_in("pending_callback")
    with frozen_at(local(2026, 12, 30, 10)):
        apply_transition(ticket, "rate_unsatisfied", world.operator, comment="没有解决")
        db.session.commit()
    assert ticket.answer_deadline_at == end_of(2027, 1, 4) and ticket.deadline_provisional  # 12-31, 01-01, 01-04
    import_2027()
    db.session.refresh(ticket)
    assert ticket.answer_deadline_at == end_of(2027, 1, 7) and not ticket.deadline_provisional  # 12-31, 01-06, 01-07


def test_a_still_suspended_ticket_is_resumed_later_with_the_new_calendar(world, calendar_2027):
    ticket = in_progress_on_monday(world)
    with frozen_at(local(2026, 12, 23, 10)):
        apply_transition(ticket, "suspend", world.supervisor, note="等待检测报告")
        db.session.commit()
    import_2027()
    db.session.refresh(ticket)
    assert ticket.answer_deadline_at == end_of(2027, 1, 7)  # the running pause is not counted yet
    with frozen_at(local(2026, 12, 28, 10)):
        apply_transition(ticket, "resume", world.supervisor)
        db.session.commit()
    assert ticket.answer_deadline_at == end_of(2027, 1, 12)  # the same as if 2027 had been known all along


def extension_to_sunday_4_january(world):
    """In December 2025 a unit asks until Sunday 2026-01-04: a day off while 2026 is unknown."""
    with frozen_at(local(2025, 12, 15, 10)):  # complaint: 10 working days from Tue 12-16
        ticket = world.ticket_in("in_progress")
    assert ticket.answer_deadline_at == end_of(2025, 12, 29) and not ticket.deadline_provisional
    with frozen_at(local(2025, 12, 16, 10)):
        req = sla_clock.request_extension(ticket, world.district_handler, local(2026, 1, 4, 12), "需要现场复核")
        db.session.commit()
    assert req.requested_deadline == end_of(2026, 1, 5)  # for now: Sunday → Monday
    return ticket, req


def test_a_requested_day_off_that_becomes_a_make_up_workday(world, before_the_2026_notice):
    ticket, req = extension_to_sunday_4_january(world)
    with frozen_at(local(2025, 12, 16, 11)):
        sla_clock.decide_extension(req, world.supervisor, True, "同意")
        db.session.commit()
    assert ticket.answer_deadline_at == end_of(2026, 1, 5) and ticket.deadline_provisional

    assert import_2026()["recomputed"] == 1
    db.session.refresh(ticket)
    # The notice makes Sunday 01-04 a make-up workday (元旦调休): the day asked for is the deadline.
    assert ticket.answer_deadline_at == end_of(2026, 1, 4) and not ticket.deadline_provisional
    assert lead_assignment(ticket).answer_deadline_at == end_of(2026, 1, 4)


def test_an_extension_approved_after_the_notice_uses_it(world, before_the_2026_notice):
    ticket, req = extension_to_sunday_4_january(world)
    assert import_2026()["recomputed"] == 0  # nothing provisional yet: the request waits for a decision
    with frozen_at(local(2025, 12, 17, 10)):
        sla_clock.decide_extension(req, world.supervisor, True, "同意")
        db.session.commit()
    assert ticket.answer_deadline_at == end_of(2026, 1, 4) and not ticket.deadline_provisional
    assert lead_assignment(ticket).answer_deadline_at == end_of(2026, 1, 4)
